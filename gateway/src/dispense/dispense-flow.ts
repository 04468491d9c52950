import { normalisePhone } from '@tusafishe/protocol/phone';
import { verifySecret } from '@tusafishe/protocol/secret-hash';
import {
  denialText,
  newId,
  type AuthApproved,
  type AuthDenied,
  type AuthRequest,
  type AuthResponse,
  type CustomerRecord,
  type DenialCode,
  type SessionAck,
  type SessionComplete,
  type SessionRefused,
} from '@tusafishe/protocol';
import type { Logger } from 'pino';
import type { KioskClock } from '../clock.js';
import { GatewayError } from '../errors.js';
import type { DispenseRecorded, GatewayEvents } from '../events.js';
import type { Settings } from '../settings.js';
import type { DispenseSession, StoredDecision } from '../store/holds.js';
import { isDiskFull, type StorageState } from '../store/storage-guard.js';
import type { Store } from '../store/store.js';
import type { Interlocks } from './interlocks.js';
import { dailyUsage } from './daily-usage.js';
import { checkAccount, checkAllowance, effectiveLockout } from './verify-dispense.js';

export interface DispenseFlowOptions {
  store: Store;
  settings: Settings;
  kioskId: string;
  interlocks: Interlocks;
  events: GatewayEvents;
  logger: Logger;
  now?: () => number;
  /** Trusted time: `now` when `now` is not given, and whether the wall clock is behind it. */
  clock?: Pick<KioskClock, 'now' | 'isBehind'>;
}

/** What a settlement needs from a completion report. */
export type Settlement = Pick<SessionComplete, 'session_id' | 'request_id' | 'delivered_ml'> &
  Partial<Pick<SessionComplete, 'pulses' | 'end_reason' | 'ended_at'>>;

/** The cloud's current record of a customer, written to the replica; null when it cannot say. */
export type CustomerLookup = (accountId: string) => Promise<CustomerRecord | null>;

/** What `afterPin` decides on. */
interface PinChecked {
  request: AuthRequest;
  dispenserId: string | null;
  checked: CustomerRecord;
  phone: string;
  pinMatches: boolean;
  balanceKnown: boolean;
}

interface Verdict {
  response: AuthResponse;
  customer: CustomerRecord | null;
  phone: string | null;
}

export function deny(requestId: string, reason: DenialCode, attemptsLeft?: number): AuthDenied {
  const denied: AuthDenied = { request_id: requestId, approved: false, reason, message: denialText(reason) };
  if (attemptsLeft !== undefined) denied.attempts_left = attemptsLeft;
  return denied;
}

/**
 * The dispense flow of ARCHITECTURE §4: verify, hold, settle — each idempotent by its id.
 * Everything after the PIN hash runs as one atomic write (re-checking what may have
 * changed meanwhile), so two requests can never both spend the same credit.
 */
export class DispenseFlow {
  private readonly inFlight = new Map<string, Promise<AuthResponse>>();
  private readonly now: () => number;
  private lookup: CustomerLookup | null = null;

  constructor(private readonly options: DispenseFlowOptions) {
    this.now = options.now ?? options.clock?.now ?? Date.now;
  }

  /**
   * Set by sync while it follows only the kiosk's own customers' balances (ARCHITECTURE §7, _A
   * kiosk's SD card_): anyone else's stored balance may be stale, so it is asked of the cloud, or,
   * when the cloud cannot answer, the offline daily limit bounds what they draw. Without one, every
   * stored balance is the cloud's last (a kiosk without a cloud pulls nothing to leave unwritten).
   */
  useCustomerLookup(lookup: CustomerLookup | null): void {
    this.lookup = lookup;
  }

  /** Answers an authorisation request; a repeated request_id gets the stored answer. */
  authorise(request: AuthRequest, dispenserId: string | null): Promise<AuthResponse> {
    const pending = this.inFlight.get(request.request_id);
    if (pending) return pending;
    const work = this.decide(request, dispenserId).finally(() => this.inFlight.delete(request.request_id));
    this.inFlight.set(request.request_id, work);
    return work;
  }

  /** Resolves once every authorisation in progress has been answered. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /**
   * Records the delivered mL of a session exactly once and resolves with the
   * acknowledgement once the event is on disk. A session already settled is acknowledged
   * again with the same event id. Rejects with UNKNOWN_SESSION / SESSION_MISMATCH for
   * reports that match no approval of this dispenser.
   */
  async complete(report: Settlement, dispenserId: string | null): Promise<SessionAck> {
    const { store, events } = this.options;
    const outcome = await store.write((): { ack: SessionAck; recorded?: DispenseRecorded } => {
      const session = store.holds.find(report.session_id);
      if (!session) throw new GatewayError('UNKNOWN_SESSION', report.session_id);
      if (session.request_id !== report.request_id || session.dispenser_id !== dispenserId) {
        throw new GatewayError('SESSION_MISMATCH', report.session_id, {
          dispenser_id: dispenserId,
        });
      }
      if (session.settled_at !== null && session.event_id !== null) {
        const ack = {
          session_id: session.session_id,
          event_id: session.event_id,
          recorded_ml: session.delivered_ml ?? 0,
          balance_ml: this.balanceOf(session.account_id),
        };
        return { ack };
      }
      return this.settle(session, report);
    });
    if (outcome.recorded) events.emit('dispense-recorded', outcome.recorded);
    return outcome.ack;
  }

  /**
   * Keeps a completion that complete() refused (water may have flowed; a technician
   * reconciles it) and returns the refusal the dispenser gets, so it stops sending it.
   */
  async refuse(
    report: SessionComplete,
    dispenserId: string,
    reason: SessionRefused['refused'],
  ): Promise<SessionRefused> {
    const at = this.now();
    const { store, events, logger, settings } = this.options;
    const kept = await store.write(() =>
      store.refusedCompletions.record(
        { ...report, dispenser_id: dispenserId, reason, received_at: at },
        settings.refusedCompletionsPerDispenser,
      ),
    );
    if (kept) {
      logger.warn({ dispenser_id: dispenserId, session_id: report.session_id, reason }, 'completion refused, kept');
      events.emit('completion-refused', { dispenser_id: dispenserId, completion: report, reason, at });
    }
    return { session_id: report.session_id, refused: reason };
  }

  /**
   * Seed-compatible dispense: old kiosks report nothing after approval, so an approval
   * is recorded as delivered at once, in the same transaction as the approval.
   */
  async authoriseAndRecord(
    request: AuthRequest,
  ): Promise<{ response: AuthResponse; ack: SessionAck | null; customer: CustomerRecord | null }> {
    const settled: { ack: SessionAck; recorded: DispenseRecorded }[] = [];
    const verdict = await this.verdict(request, null, (session) => {
      settled.push(
        this.settle(session, {
          session_id: session.session_id,
          request_id: request.request_id,
          delivered_ml: session.approved_ml,
        }),
      );
    });
    const [done] = settled;
    if (done) this.options.events.emit('dispense-recorded', done.recorded);
    return { response: verdict.response, ack: done?.ack ?? null, customer: verdict.customer };
  }

  private async decide(request: AuthRequest, dispenserId: string | null): Promise<AuthResponse> {
    const stored = this.options.store.holds.findDecision(request.request_id) ?? this.storedApproval(request);
    if (stored) {
      // A request_id is the dispenser's; another dispenser reusing it is not answered with its decision.
      const response =
        stored.dispenser_id === dispenserId ? stored.response : deny(request.request_id, 'INVALID_REQUEST');
      this.announce(request, dispenserId, { response, customer: null, phone: null }, true);
      return response;
    }
    return (await this.verdict(request, dispenserId)).response;
  }

  private async verdict(
    request: AuthRequest,
    dispenserId: string | null,
    onApproved?: (session: DispenseSession) => void,
  ): Promise<Verdict> {
    const { store } = this.options;
    const unrecordable = this.storageDenial(request, dispenserId);
    if (unrecordable) return unrecordable;
    const early = this.preCheck(request, dispenserId);
    try {
      if ('response' in early) {
        await store.write(() => this.record(dispenserId, early));
        this.announce(request, dispenserId, early, false);
        return early;
      }
      const { customer, phone } = early;

      // The cloud is asked while the PIN is hashed: a stranger's first dispense waits for one, not both.
      const [pinMatches, balanceKnown] = await Promise.all([
        this.pinMatches(request.pin, customer),
        this.knowBalance(customer),
      ]);
      // Decision, counters and hold commit together: a crash leaves all or none of them. Synced
      // before the approval is sent: the dispenser reports what it delivered even after a power cut
      // (its flash keeps the session), and a forgotten session would refuse those litres.
      const verdict = await store.write(() =>
        this.record(
          dispenserId,
          this.afterPin({ request, dispenserId, checked: customer, phone, pinMatches, balanceKnown }, onApproved),
        ),
      );
      this.announce(request, dispenserId, verdict, false);
      return verdict;
    } catch (error) {
      // The write failed for want of storage: a clear denial (nothing was recorded, a repeat is decided afresh).
      const denial = this.storageDenial(request, dispenserId, isDiskFull(error) ? 'full' : undefined);
      if (denial) return denial;
      throw error;
    }
  }

  /** New dispenses are refused, unrecorded, while the disk is full or after a failed fsync. */
  private storageDenial(
    request: AuthRequest,
    dispenserId: string | null,
    state: StorageState = this.options.store.storage?.state ?? 'ok',
  ): Verdict | null {
    if (state === 'ok') return null;
    const verdict: Verdict = {
      response: deny(request.request_id, state === 'full' ? 'STORAGE_FULL' : 'STORAGE_FAULT'),
      customer: null,
      phone: null,
    };
    this.announce(request, dispenserId, verdict, false);
    return verdict;
  }

  /**
   * Whether the stored balance is the customer's: a followed customer's is; anyone else's once the
   * cloud has answered with their record (written; their dispense here then makes them followed).
   */
  async knowBalance(customer: CustomerRecord): Promise<boolean> {
    const { lookup } = this;
    if (!lookup) return true;
    const now = this.now();
    const { store, kioskId, settings } = this.options;
    if (store.followed.follows(customer, kioskId, now - settings.followCustomersMs)) return true;
    if (this.isOffline(now)) return false;
    return (await lookup(customer.account_id)) !== null;
  }

  private afterPin(checks: PinChecked, onApproved?: (session: DispenseSession) => void): Verdict {
    const { request, dispenserId, checked, phone, pinMatches, balanceKnown } = checks;
    const { store, settings } = this.options;
    const now = this.now();
    // Re-read and re-checked: while the PIN was hashed, a sync may have changed the record
    // and concurrent wrong PINs may have locked the customer.
    const customer = store.customers.findByAccount(checked.account_id);
    if (!customer) return { customer: checked, phone, response: deny(request.request_id, 'UNKNOWN_CUSTOMER') };
    const accountDenial = checkAccount(customer, this.lockedUntil(customer), now);
    if (accountDenial) return { customer, phone, response: deny(request.request_id, accountDenial) };
    if (!pinMatches) return { customer, phone, response: this.wrongPin(request, customer, now) };
    // Re-checked here: another request may have opened a session while the PIN was hashed.
    if (dispenserId !== null && store.holds.openHoldOn(dispenserId, now)) {
      return { customer, phone, response: deny(request.request_id, 'DISPENSER_BUSY') };
    }
    store.pinFailures.reset(customer.account_id);
    const usage = dailyUsage(store, customer, now, settings.timezone);
    const denial = checkAllowance(customer, {
      kioskId: this.options.kioskId,
      requestedMl: request.requested_ml,
      // A balance not known here is not counted on: the offline daily limit bounds the exposure (§5).
      availableMl: balanceKnown ? store.availableBalanceMl(customer, now) : Number.MAX_SAFE_INTEGER,
      usedTodayMl: usage.everywhereMl,
      usedHereTodayMl: usage.hereMl,
      offlineLimitMl: !balanceKnown || this.isOffline(now) ? settings.offlineDailyLimitMl : null,
    });
    if (denial) return { customer, phone, response: deny(request.request_id, denial) };
    const session = this.openSession(request, dispenserId, customer, now);
    onApproved?.(session);
    return { customer, phone, response: this.approval(request, session, now) };
  }

  /** Interlocks, dispenser state and account checks: everything decidable before hashing. */
  private preCheck(
    request: AuthRequest,
    dispenserId: string | null,
  ): Verdict | { customer: CustomerRecord; phone: string } {
    const { store, interlocks } = this.options;
    const now = this.now();
    const denied = (
      reason: DenialCode,
      customer: CustomerRecord | null = null,
      phone: string | null = null,
    ): Verdict => ({
      response: deny(request.request_id, reason),
      customer,
      phone,
    });
    if (dispenserId !== null) {
      const dispenser = store.dispensers.get(dispenserId);
      if (!dispenser?.config.enabled) return denied('DISPENSER_DISABLED');
      if (request.requested_ml > dispenser.config.max_ml) return denied('INVALID_REQUEST');
      if (store.holds.openHoldOn(dispenserId, now)) return denied('DISPENSER_BUSY');
    }
    const interlock = interlocks.check({ dispenserId });
    if (interlock) return denied(interlock);

    let phone: string;
    try {
      phone = normalisePhone(request.phone, this.options.settings.phoneRegion);
    } catch {
      return denied('UNKNOWN_CUSTOMER');
    }
    const customer = store.customers.findByPhone(phone);
    if (!customer) return denied('UNKNOWN_CUSTOMER', null, phone);
    const accountDenial = checkAccount(customer, this.lockedUntil(customer), now);
    if (accountDenial) return denied(accountDenial, customer, phone);
    return { customer, phone };
  }

  private lockedUntil(customer: CustomerRecord): number {
    return (
      effectiveLockout(this.options.store.pinFailures.get(customer.account_id).locked_until, customer.locked_until) ?? 0
    );
  }

  private async pinMatches(pin: string, customer: CustomerRecord): Promise<boolean> {
    try {
      return await verifySecret(pin, customer.pin_hash);
    } catch (error) {
      // A corrupt hash from the cloud: the customer cannot be verified, so they are refused.
      this.options.logger.error({ account_id: customer.account_id, err: error }, 'customer PIN hash unreadable');
      return false;
    }
  }

  /** Counts the failure; the last allowed one locks the customer and tells the cloud. */
  private wrongPin(request: AuthRequest, customer: CustomerRecord, now: number): AuthDenied {
    const { store, settings, kioskId } = this.options;
    const state = store.pinFailures.recordFailure(
      customer.account_id,
      now,
      settings.pinMaxFailures,
      settings.pinLockoutMs,
    );
    if (state.locked_until === null)
      return deny(request.request_id, 'WRONG_PIN', settings.pinMaxFailures - state.failures);
    store.ledger.append({
      event_id: newId(),
      type: 'pin_lockout',
      account_id: customer.account_id,
      amount_ml: 0,
      kiosk_id: kioskId,
      source_id: newId(),
      occurred_at: now,
      details: { locked_until: state.locked_until, failures: settings.pinMaxFailures },
    });
    this.options.logger.warn(
      { account_id: customer.account_id, locked_until: state.locked_until },
      'customer locked out after wrong PINs',
    );
    return deny(request.request_id, 'LOCKED_OUT', 0);
  }

  /**
   * An approval is not stored as a decision: its session is (open in `holds`, settled as its ledger
   * event), under the request's id, one page fewer a dispense (SD-card wear). A repeat reads it
   * back, with the balance as it is now.
   */
  private storedApproval(request: AuthRequest): StoredDecision | undefined {
    const session = this.options.store.holds.find(request.request_id);
    return session && { dispenser_id: session.dispenser_id, response: this.approval(request, session, this.now()) };
  }

  private openSession(
    request: AuthRequest,
    dispenserId: string | null,
    customer: CustomerRecord,
    now: number,
  ): DispenseSession {
    const { settings } = this.options;
    const flowMs = Math.ceil((request.requested_ml / settings.holdMinFlowMlPerS) * 1000);
    const session: DispenseSession = {
      // The request's own id: a repeated request finds its approval as this session (storedApproval).
      session_id: request.request_id,
      request_id: request.request_id,
      dispenser_id: dispenserId,
      account_id: customer.account_id,
      approved_ml: request.requested_ml,
      created_at: now,
      hold_expires_at: now + flowMs + settings.holdMarginMs,
      settled_at: null,
      event_id: null,
      delivered_ml: null,
    };
    this.options.store.holds.open(session);
    return session;
  }

  private approval(request: AuthRequest, session: DispenseSession, now: number): AuthApproved {
    return {
      request_id: request.request_id,
      approved: true,
      session_id: session.session_id,
      approved_ml: session.approved_ml,
      balance_ml: this.balanceOf(session.account_id, now),
      hold_expires_at: session.hold_expires_at,
    };
  }

  /** Writes the one dispense event of a session; runs inside the caller's write. */
  private settle(session: DispenseSession, report: Settlement): { ack: SessionAck; recorded: DispenseRecorded } {
    const { store, kioskId, logger, settings } = this.options;
    const now = this.now();
    const overDelivered = report.delivered_ml > session.approved_ml;
    // A dispenser cannot charge more than it was approved for, plus the meter's overshoot.
    const deliveredMl = Math.min(report.delivered_ml, session.approved_ml + settings.overDeliveryToleranceMl);
    const excessMl = report.delivered_ml - deliveredMl;
    const details: Record<string, unknown> = {
      request_id: session.request_id,
      approved_ml: session.approved_ml,
      delivered_ml: deliveredMl,
    };
    if (excessMl > 0) Object.assign(details, { reported_ml: report.delivered_ml, excess_ml: excessMl });
    if (report.pulses !== undefined) details.pulses = report.pulses;
    if (report.end_reason !== undefined) details.end_reason = report.end_reason;
    if (report.ended_at !== undefined) details.ended_at = report.ended_at;
    if (overDelivered) details.over_delivered = true;
    if (now > session.hold_expires_at) details.settled_after_hold_expiry = true;
    const event = store.ledger.append({
      event_id: newId(),
      type: 'dispense',
      account_id: session.account_id,
      amount_ml: -deliveredMl,
      kiosk_id: kioskId,
      ...(session.dispenser_id !== null && { dispenser_id: session.dispenser_id }),
      source_id: session.session_id,
      occurred_at: now,
      details,
    });
    // The event is the settled session from now on (Holds.find): its hold no longer holds anything.
    if (overDelivered) {
      logger.warn(
        {
          session_id: session.session_id,
          dispenser_id: session.dispenser_id,
          approved_ml: session.approved_ml,
          delivered_ml: report.delivered_ml,
          excess_ml: excessMl,
        },
        excessMl > 0
          ? 'dispenser reported more than approved + tolerance: excess not charged'
          : 'dispenser delivered more than approved',
      );
    }
    const balance = this.balanceOf(session.account_id, now);
    const settled: DispenseSession = {
      ...session,
      settled_at: now,
      event_id: event.event_id,
      delivered_ml: deliveredMl,
    };
    return {
      ack: {
        session_id: session.session_id,
        event_id: event.event_id,
        recorded_ml: deliveredMl,
        balance_ml: balance,
      },
      // Announced by the caller once the enclosing transaction has committed.
      recorded: { event, session: settled, balance_ml: balance, over_delivered: overDelivered, excess_ml: excessMl },
    };
  }

  private balanceOf(accountId: string, now = this.now()): number {
    const customer = this.options.store.customers.findByAccount(accountId);
    return customer ? this.options.store.availableBalanceMl(customer, now) : 0;
  }

  private isOffline(now: number): boolean {
    // A wall clock behind the trusted time cannot say how long the cloud has been away: assume offline.
    if (this.options.clock?.isBehind()) return true;
    const last = this.options.store.lastCloudContact();
    return last === null || now - last > this.options.settings.offlineAfterMs;
  }

  /** Stores a denial for repeats; an approval is its session (storedApproval). */
  private record(dispenserId: string | null, verdict: Verdict): Verdict {
    if (!verdict.response.approved) this.options.store.holds.recordDecision(dispenserId, verdict.response, this.now());
    return verdict;
  }

  private announce(request: AuthRequest, dispenserId: string | null, verdict: Verdict, repeat: boolean): void {
    const { response } = verdict;
    this.options.events.emit('authorisation', {
      request_id: request.request_id,
      dispenser_id: dispenserId,
      phone: verdict.phone,
      account_id: verdict.customer?.account_id ?? null,
      requested_ml: request.requested_ml,
      approved: response.approved,
      reason: response.approved ? null : response.reason,
      session_id: response.approved ? response.session_id : null,
      repeat,
      at: this.now(),
      response,
    });
    this.options.logger.info(
      {
        request_id: request.request_id,
        dispenser_id: dispenserId,
        approved: response.approved,
        reason: response.approved ? undefined : response.reason,
        repeat,
      },
      'authorisation answered',
    );
  }
}
