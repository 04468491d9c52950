import { openKeypadToken, tokenEventId } from '@tusafishe/protocol/keypad-token';
import { normalisePhone } from '@tusafishe/protocol/phone';
import {
  TOKEN_OUTCOMES,
  tokenDigitsValid,
  TusafisheError,
  type CustomerRecord,
  type LedgerEvent,
  type TokenOutcome,
  type TokenRequest,
  type TokenResponse,
} from '@tusafishe/protocol';
import type { Logger } from 'pino';
import type { GatewayEvents, TokenRedeemed } from '../events.js';
import type { Settings } from '../settings.js';
import type { Store } from '../store/store.js';

export interface TokenRedemptionOptions {
  store: Store;
  settings: Settings;
  kioskId: string;
  events: GatewayEvents;
  logger: Logger;
  now?: () => number;
  /**
   * Makes the stored record current when it may not be (`DispenseFlow.knowBalance`): the token
   * counter moves with the balance, so a customer this kiosk does not follow may hold an old one,
   * and a token the cloud has already credited would be credited again here.
   */
  refresh?: (customer: CustomerRecord) => Promise<unknown>;
}

function answer(request: TokenRequest, outcome: TokenOutcome, extra: Partial<TokenResponse> = {}): TokenResponse {
  return { request_id: request.request_id, outcome, message: TOKEN_OUTCOMES[outcome], ...extra };
}

const accountScope = (accountId: string): string => `account:${accountId}`;
const dispenserScope = (dispenserId: string | null): string => `dispenser:${dispenserId ?? '-'}`;

/**
 * Redeems keypad tokens typed at a dispenser, offline (ARCHITECTURE §5a): verified against the
 * customer's key from the replica, each counter once, credited as a `topup` under the cloud's own
 * top-up event id. Classifying and crediting are one atomic write, so two dispensers typing the
 * same token at once credit it once.
 */
export class TokenRedemptionFlow {
  private readonly inFlight = new Map<string, Promise<TokenResponse>>();
  private readonly now: () => number;

  constructor(private readonly options: TokenRedemptionOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Answers a typed token; a repeated request_id still in progress shares its answer. */
  redeem(request: TokenRequest, dispenserId: string | null): Promise<TokenResponse> {
    const pending = this.inFlight.get(request.request_id);
    if (pending) return pending;
    const work = this.decide(request, dispenserId).finally(() => this.inFlight.delete(request.request_id));
    this.inFlight.set(request.request_id, work);
    return work;
  }

  private async decide(request: TokenRequest, dispenserId: string | null): Promise<TokenResponse> {
    const { store, events, logger, settings } = this.options;
    // A typo (the check digit) is the dispenser's to catch; it never counts as a wrong token.
    if (!tokenDigitsValid(request.token)) return answer(request, 'INVALID_REQUEST');
    let phone: string;
    try {
      phone = normalisePhone(request.phone, settings.phoneRegion);
    } catch (error) {
      if (!(error instanceof TusafisheError)) throw error;
      return answer(request, 'UNKNOWN_CUSTOMER');
    }
    const known = store.customers.findByPhone(phone);
    if (known) await this.options.refresh?.(known).catch(() => undefined);
    const now = this.now();
    let outcome: { response: TokenResponse; redeemed?: TokenRedeemed };
    try {
      outcome = await store.write(() => this.classify(request, dispenserId, phone, now));
    } catch (error) {
      logger.error({ err: error, dispenser_id: dispenserId }, 'token redemption not recorded');
      return answer(request, 'UNAVAILABLE');
    }
    const { response, redeemed } = outcome;
    logger.info(
      { dispenser_id: dispenserId, outcome: response.outcome, account_id: redeemed?.event.account_id },
      'keypad token answered',
    );
    if (redeemed) events.emit('token-redeemed', redeemed);
    return response;
  }

  private classify(
    request: TokenRequest,
    dispenserId: string | null,
    phone: string,
    now: number,
  ): { response: TokenResponse; redeemed?: TokenRedeemed } {
    const { store } = this.options;
    const tokens = store.tokenRedemptions;
    const locked = (scope: string) => (tokens.failures(scope).locked_until ?? 0) > now;
    if (locked(dispenserScope(dispenserId))) return { response: answer(request, 'LOCKED_OUT') };
    const customer = store.customers.findByPhone(phone);
    if (!customer) {
      this.wrong(dispenserId, null, now);
      return { response: answer(request, 'UNKNOWN_CUSTOMER') };
    }
    const accountId = customer.account_id;
    if (locked(accountScope(accountId))) return { response: answer(request, 'LOCKED_OUT') };
    const issued = customer.token_counter ?? 0;
    const base = Math.max(issued, tokens.highestRedeemed(accountId));
    const opened = customer.token_key ? openKeypadToken(customer.token_key, request.token, base) : null;
    if (!opened) {
      const attemptsLeft = this.wrong(dispenserId, accountId, now);
      return { response: answer(request, 'WRONG_TOKEN', { attempts_left: attemptsLeft }) };
    }
    tokens.resetFailures(accountScope(accountId));
    const { counter, credit_ml } = opened;
    const balance = () => ({ credit_ml, balance_ml: store.availableBalanceMl(customer, now) });
    const previous = tokens.redeemed(accountId, counter);
    // The dispenser repeating a request whose answer it missed.
    if (previous?.request_id === request.request_id) return { response: answer(request, 'ADDED', balance()) };
    if (customer.tokens_void?.includes(counter)) return { response: answer(request, 'VOID') };
    if (counter <= issued) return { response: answer(request, 'ALREADY_ADDED', balance()) };
    if (previous) return { response: answer(request, 'USED', balance()) };
    return this.credit(request, dispenserId, customer, counter, credit_ml, now);
  }

  private credit(
    request: TokenRequest,
    dispenserId: string | null,
    customer: CustomerRecord,
    counter: number,
    creditMl: number,
    now: number,
  ): { response: TokenResponse; redeemed: TokenRedeemed } {
    const { store, kioskId } = this.options;
    const event: LedgerEvent = {
      event_id: tokenEventId(customer.account_id, counter),
      type: 'topup',
      account_id: customer.account_id,
      amount_ml: creditMl,
      kiosk_id: kioskId,
      ...(dispenserId ? { dispenser_id: dispenserId } : {}),
      occurred_at: now,
      details: { via: 'keypad_token', counter },
    };
    store.ledger.append(event);
    store.tokenRedemptions.record({
      account_id: customer.account_id,
      counter,
      event_id: event.event_id,
      request_id: request.request_id,
      dispenser_id: dispenserId,
      redeemed_at: now,
    });
    const balanceMl = store.availableBalanceMl(customer, now);
    return {
      response: answer(request, 'ADDED', { credit_ml: creditMl, balance_ml: balanceMl }),
      redeemed: { event, counter, balance_ml: balanceMl },
    };
  }

  /** Counts a wrong token for the dispenser and the customer; the customer's attempts left. */
  private wrong(dispenserId: string | null, accountId: string | null, now: number): number | undefined {
    const { store, settings, logger } = this.options;
    const tokens = store.tokenRedemptions;
    const lockoutMs = settings.tokenLockoutMs;
    const atDispenser = tokens.recordFailure(
      dispenserScope(dispenserId),
      now,
      settings.tokenDispenserMaxFailures,
      lockoutMs,
    );
    if (atDispenser.locked_until) logger.warn({ dispenser_id: dispenserId }, 'wrong keypad tokens: dispenser locked');
    if (!accountId) return undefined;
    const state = tokens.recordFailure(accountScope(accountId), now, settings.tokenMaxFailures, lockoutMs);
    if (state.locked_until) logger.warn({ account_id: accountId }, 'wrong keypad tokens: customer locked');
    return state.locked_until ? 0 : settings.tokenMaxFailures - state.failures;
  }
}
