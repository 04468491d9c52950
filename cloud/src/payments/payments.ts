import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { newId } from '@tusafishe/protocol';
import type { Customer } from '../customers/customers.js';
import { CloudError } from '../errors.js';
import { kioskTariff } from '../kiosks/kiosks.js';
import { issueToken } from '../customers/keypad-tokens.js';
import { tokenInstructions } from '../customers/token-instructions.js';
import { appendEvents } from '../ledger/ledger.js';
import type { CloudMetrics } from '../metrics.js';
import { enqueueSms, type SmsOutbox } from '../sms/sender.js';
import type { Db, Queryable } from '../store/db.js';
import { providerCandidates } from './provider-choice.js';
import { ProviderError, type CollectionStatus, type PaymentProvider, type ProviderName } from './provider.js';
import { formatLitres, millilitresFor, toMajorString, type Tariff } from './tariff.js';

/** When pending payments are checked with the provider, and when they are given up. */
export interface PaymentTiming {
  /** Pending this long with the provider still saying "pending" → expired (the customer can buy again). */
  expireAfterMs: number;
  /** First status check this long after the request (the callback usually comes first). */
  firstCheckAfterMs: number;
  /** Checks then back off from this interval, doubling, up to `maxCheckIntervalMs`. */
  checkBackoffMs: number;
  maxCheckIntervalMs: number;
  /** "Not found" fails a payment only after this many answers spread over at least `notFoundWindowMs`. */
  notFoundAttempts: number;
  notFoundWindowMs: number;
  /** A payment claimed for a check is not claimed by another instance for this long. */
  leaseMs: number;
  /** Status checks under way at once in one poll. */
  concurrency: number;
}

export const DEFAULT_PAYMENT_TIMING: PaymentTiming = {
  expireAfterMs: 3_600_000,
  firstCheckAfterMs: 0,
  checkBackoffMs: 15_000,
  maxCheckIntervalMs: 600_000,
  notFoundAttempts: 5,
  notFoundWindowMs: 600_000,
  leaseMs: 120_000,
  concurrency: 8,
};

export interface PaymentServiceDeps {
  db: Db;
  providers: Partial<Record<ProviderName, PaymentProvider>>;
  /** Used when the network does not say (SMS) and the number range is unknown. */
  fallbackProvider?: ProviderName;
  /** Default price of water per currency (a kiosk's own tariff wins where it is in the same currency). */
  tariffs: readonly Tariff[];
  sms: SmsOutbox;
  metrics: CloudMetrics;
  log: FastifyBaseLogger;
  timing: PaymentTiming;
}

interface PaymentRow {
  payment_id: string;
  provider: ProviderName;
  provider_reference: string | null;
  account_id: string;
  amount_minor: number | string;
  currency: string;
  kiosk_id: string | null;
  created_at: Date | string;
  status: PaymentStatus;
}

export type PaymentStatus = 'pending' | 'successful' | 'failed' | 'expired' | 'mismatch';
export type SettleOutcome = 'credited' | 'already-settled' | 'pending' | 'failed' | 'expired' | 'mismatch' | 'unknown';

/** What a callback may add: the provider's reference (M-Pesa's CheckoutRequestID) when our request's answer was lost. */
export interface SettleHint {
  providerReference?: string;
  providerTransactionId?: string;
}

const PAYMENT_COLUMNS =
  'payment_id::text AS payment_id, provider, provider_reference, account_id, amount_minor, currency, kiosk_id, created_at, status';

/**
 * Mobile-money top-ups. A payment is credited only after the provider's status query says it
 * succeeded — callbacks are just a hint to ask — and exactly once: the transition to successful
 * and the `topup` event (source_id = payment id, unique per type) share a transaction.
 * An ambiguous provider answer never fails a payment: it stays pending and is asked about again.
 */
export class PaymentService {
  constructor(private readonly deps: PaymentServiceDeps) {}

  /** Wallets that can collect from this phone, preferred first, each with a tariff for its currency. */
  walletsFor(phone: string, networkCode?: string): PaymentProvider[] {
    const country = parsePhoneNumberFromString(phone)?.country;
    return providerCandidates(phone, networkCode, this.deps.fallbackProvider)
      .map((name) => this.deps.providers[name])
      .filter(
        (p): p is PaymentProvider =>
          p !== undefined &&
          (p.country === undefined || p.country === country) &&
          this.defaultTariff(p.currency) !== undefined,
      );
  }

  provider(name: ProviderName): PaymentProvider | undefined {
    return this.deps.providers[name];
  }

  /** The currency purchases are quoted in when a customer has no wallet we know. */
  get defaultCurrency(): string {
    return this.deps.tariffs[0]!.currency;
  }

  private defaultTariff(currency: string): Tariff | undefined {
    return this.deps.tariffs.find((tariff) => tariff.currency === currency);
  }

  /** Tariff for a purchase in `currency`: the customer's kiosk's when they are tied to one kiosk and it matches, else the default. */
  async tariffFor(kioskId: string | null, currency: string): Promise<Tariff | undefined> {
    const tariff = kioskId ? await kioskTariff(this.deps.db, kioskId) : undefined;
    return tariff && tariff.currency === currency ? tariff : this.defaultTariff(currency);
  }

  /**
   * Asks the provider to collect `amountMinor` from the customer's phone; the credit follows on
   * confirmation. A repeated `requestKey` (the same USSD session delivered twice) asks only once.
   */
  async start(
    customer: Customer,
    amountMinor: number,
    options: { networkCode?: string; requestKey?: string; provider?: ProviderName } = {},
  ): Promise<{ paymentId: string; provider: PaymentProvider }> {
    if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0)
      throw new CloudError('INVALID_AMOUNT', 'amount must be a positive integer');
    const wallets = this.walletsFor(customer.phone, options.networkCode);
    const provider = options.provider ? wallets.find((w) => w.name === options.provider) : wallets[0];
    if (!provider)
      throw new CloudError('PAYMENT_PROVIDER_UNAVAILABLE', `no mobile-money provider for ${customer.phone}`);
    const kioskId = customer.allowed_kiosks?.length === 1 ? customer.allowed_kiosks[0]! : null;
    // A UUID v4: MoMo refuses any other X-Reference-Id, and the id is the reference every provider echoes.
    const inserted = await this.deps.db.query<{ payment_id: string }>(
      `INSERT INTO payments (payment_id, provider, account_id, phone, amount_minor, currency, kiosk_id, status, request_key, next_check_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, now() + make_interval(secs => $9::double precision / 1000))
       ON CONFLICT (request_key) DO NOTHING RETURNING payment_id::text`,
      [
        randomUUID(),
        provider.name,
        customer.account_id,
        customer.phone,
        amountMinor,
        provider.currency,
        kioskId,
        options.requestKey ?? null,
        this.deps.timing.firstCheckAfterMs,
      ],
    );
    if (inserted.length === 0) {
      const existing = await this.deps.db.query<{ payment_id: string; provider: ProviderName }>(
        'SELECT payment_id::text, provider FROM payments WHERE request_key = $1',
        [options.requestKey],
      );
      return { paymentId: existing[0]!.payment_id, provider: this.deps.providers[existing[0]!.provider] ?? provider };
    }
    const paymentId = inserted[0]!.payment_id;
    try {
      const { providerReference } = await provider.requestToPay({
        reference: paymentId,
        phone: customer.phone,
        amountMinor,
        currency: provider.currency,
        description: `Tusafishe water ${customer.account_id}`,
        accountId: customer.account_id,
      });
      if (providerReference) await this.recordReference(paymentId, providerReference);
    } catch (error) {
      if (error instanceof ProviderError && error.kind === 'refused') {
        // The customer reads the refusal on the USSD screen or in the SMS reply: no extra SMS.
        await this.finish(paymentId, 'failed', { notify: false });
        this.deps.log.warn({ err: error, paymentId, provider: provider.name }, 'payment request refused');
        throw new CloudError('PAYMENT_REQUEST_FAILED', 'the provider did not accept the payment request');
      }
      // Timeout, reset, 5xx: the provider may have taken it. Stay pending; the status checks decide.
      this.deps.log.warn(
        { err: error, paymentId, provider: provider.name },
        'payment request outcome unknown; stays pending',
      );
      await this.deps.db.query('UPDATE payments SET last_error = $2 WHERE payment_id::text = $1', [
        paymentId,
        String((error as Error).message).slice(0, 200),
      ]);
    }
    this.deps.log.info(
      { paymentId, provider: provider.name, accountId: customer.account_id, amountMinor },
      'payment requested',
    );
    return { paymentId, provider };
  }

  /** Looks a payment up by the provider's own reference (M-Pesa's CheckoutRequestID). */
  async byProviderReference(provider: ProviderName, reference: string): Promise<string | undefined> {
    const rows = await this.deps.db.query<{ payment_id: string }>(
      'SELECT payment_id::text AS payment_id FROM payments WHERE provider = $1 AND provider_reference = $2',
      [provider, reference],
    );
    return rows[0]?.payment_id;
  }

  private async recordReference(paymentId: string, reference: string): Promise<void> {
    await this.deps.db.query(
      `UPDATE payments SET provider_reference = $2 WHERE payment_id::text = $1 AND provider_reference IS NULL
         AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.provider = payments.provider AND p.provider_reference = $2)`,
      [paymentId, reference],
    );
  }

  private async load(paymentId: string): Promise<PaymentRow | undefined> {
    const rows = await this.deps.db.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE payment_id::text = $1`,
      [paymentId],
    );
    return rows[0];
  }

  /** What the provider says about a payment now (reconciliation); throws ProviderError. */
  async providerStatus(paymentId: string): Promise<CollectionStatus> {
    const payment = await this.load(paymentId);
    const provider = payment && this.deps.providers[payment.provider];
    if (!payment || !provider)
      throw new ProviderError('not-found', `no payment ${paymentId} with a configured provider`);
    return provider.status({ paymentId: payment.payment_id, providerReference: payment.provider_reference });
  }

  /**
   * Asks the provider for the payment's status and applies it. Safe to call any number of times,
   * concurrently and from several instances. A payment we failed or expired is credited still if
   * the provider now says it succeeded (a late callback): the customer's money was taken.
   */
  async settle(paymentId: string, hint: SettleHint = {}): Promise<SettleOutcome> {
    let payment = await this.load(paymentId);
    if (!payment) return 'unknown';
    if (payment.status === 'successful' || payment.status === 'mismatch') return 'already-settled';
    if (hint.providerReference && !payment.provider_reference) {
      await this.recordReference(paymentId, hint.providerReference);
      payment = (await this.load(paymentId))!;
    }
    const provider = this.deps.providers[payment.provider];
    if (!provider) return 'pending';
    let status: CollectionStatus;
    try {
      status = await provider.status({ paymentId: payment.payment_id, providerReference: payment.provider_reference });
    } catch (error) {
      if (payment.status !== 'pending') return 'already-settled';
      return this.checkFailed(payment, error);
    }
    if (status.status === 'successful') return this.confirmSuccess(payment, status, hint);
    if (payment.status !== 'pending') return 'already-settled';
    if (status.status === 'failed') return (await this.finish(paymentId, 'failed')) ? 'failed' : 'already-settled';
    const age = Date.now() - new Date(payment.created_at).getTime();
    if (age >= this.deps.timing.expireAfterMs)
      return (await this.finish(paymentId, 'expired')) ? 'expired' : 'already-settled';
    await this.reschedule(paymentId, null);
    return 'pending';
  }

  private async confirmSuccess(
    payment: PaymentRow,
    status: CollectionStatus,
    hint: SettleHint,
  ): Promise<SettleOutcome> {
    const amountMinor = Number(payment.amount_minor);
    if (
      (status.amountMinor !== undefined && status.amountMinor !== amountMinor) ||
      (status.currency && status.currency !== payment.currency)
    ) {
      this.deps.log.error(
        { paymentId: payment.payment_id, expected: amountMinor, reported: status.amountMinor },
        'provider reports a different amount: not credited',
      );
      return (await this.finish(payment.payment_id, 'mismatch', {
        notify: false,
        from: ['pending', 'failed', 'expired'],
      }))
        ? 'mismatch'
        : 'already-settled';
    }
    return this.credit(payment, status.providerTransactionId ?? hint.providerTransactionId);
  }

  /** A status query that threw: "not found" N times over T fails the payment; anything else is asked again later. */
  private async checkFailed(payment: PaymentRow, error: unknown): Promise<SettleOutcome> {
    const message = String((error as Error).message).slice(0, 200);
    if (error instanceof ProviderError && error.kind === 'not-found') {
      const rows = await this.deps.db.query<{ not_found_checks: number; since_ms: number }>(
        `UPDATE payments SET not_found_checks = not_found_checks + 1, first_not_found_at = coalesce(first_not_found_at, now())
         WHERE payment_id::text = $1 AND status = 'pending'
         RETURNING not_found_checks, (extract(epoch FROM now() - first_not_found_at) * 1000)::float8 AS since_ms`,
        [payment.payment_id],
      );
      const row = rows[0];
      const { notFoundAttempts, notFoundWindowMs } = this.deps.timing;
      if (row && row.not_found_checks >= notFoundAttempts && Number(row.since_ms) >= notFoundWindowMs) {
        this.deps.log.warn(
          { paymentId: payment.payment_id, checks: row.not_found_checks },
          'provider has no such payment: failed',
        );
        return (await this.finish(payment.payment_id, 'failed')) ? 'failed' : 'already-settled';
      }
    } else {
      this.deps.log.warn({ err: error, paymentId: payment.payment_id }, 'payment status query failed; will retry');
    }
    await this.reschedule(payment.payment_id, message);
    return 'pending';
  }

  /** Next check: backing off from checkBackoffMs, doubling per check, capped at maxCheckIntervalMs. */
  private async reschedule(paymentId: string, lastError: string | null): Promise<void> {
    const { checkBackoffMs, maxCheckIntervalMs } = this.deps.timing;
    await this.deps.db.query(
      `UPDATE payments SET checks = checks + 1, last_error = $2,
         next_check_at = now() + make_interval(secs => least($4::double precision, $3::double precision * power(2, least(checks, 30))) / 1000)
       WHERE payment_id::text = $1 AND status = 'pending'`,
      [paymentId, lastError, checkBackoffMs, maxCheckIntervalMs],
    );
  }

  /**
   * Checks the pending payments that are due, oldest due first (a payment just checked goes to
   * the back), each claimed with FOR UPDATE SKIP LOCKED so several instances never check the same
   * one at once. One payment that throws is logged and rescheduled; the others go on.
   * Resolves to how many were credited.
   */
  async pollPending(limit = 200): Promise<number> {
    const claimed = await this.deps.db.query<{ payment_id: string }>(
      `UPDATE payments SET next_check_at = now() + make_interval(secs => $2::double precision / 1000)
       WHERE payment_id IN (SELECT payment_id FROM payments WHERE status = 'pending' AND next_check_at <= now()
                            ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING payment_id::text AS payment_id`,
      [limit, this.deps.timing.leaseMs],
    );
    const queue = claimed.map((row) => row.payment_id);
    let credited = 0;
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          if ((await this.settle(id)) === 'credited') credited += 1;
        } catch (error) {
          this.deps.log.error({ err: error, paymentId: id }, 'payment check failed; rescheduled');
          await this.reschedule(id, String((error as Error).message).slice(0, 200)).catch(() => undefined);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.timing.concurrency, queue.length) }, worker));
    return credited;
  }

  /**
   * A payment the customer made from their wallet's menu (M-Pesa paybill) and the provider has
   * confirmed: recorded and credited once per provider transaction, however often it is confirmed.
   */
  async creditPaybill(input: {
    provider: ProviderName;
    transactionId: string;
    customer: Customer;
    amountMinor: number;
    currency: string;
  }): Promise<SettleOutcome> {
    const inserted = await this.deps.db.query<PaymentRow>(
      `INSERT INTO payments (payment_id, provider, provider_reference, account_id, phone, amount_minor, currency, status, channel)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 'paybill') ON CONFLICT DO NOTHING RETURNING ${PAYMENT_COLUMNS}`,
      [
        randomUUID(),
        input.provider,
        input.transactionId,
        input.customer.account_id,
        input.customer.phone,
        input.amountMinor,
        input.currency,
      ],
    );
    if (inserted.length === 0) return 'already-settled';
    return this.credit(inserted[0]!, input.transactionId);
  }

  private async finish(
    paymentId: string,
    status: 'failed' | 'expired' | 'mismatch',
    options: { notify?: boolean; from?: PaymentStatus[] } = {},
  ): Promise<boolean> {
    const finished = await this.deps.db.transaction(async (tx) => {
      const rows = await tx.query<PaymentRow & { phone: string; language: string | null }>(
        `UPDATE payments p SET status = $2, settled_at = now()
         WHERE p.payment_id::text = $1 AND p.status = ANY($3::text[])
         RETURNING p.provider, p.phone, p.amount_minor, p.currency,
           (SELECT language FROM customers c WHERE c.account_id = p.account_id) AS language`,
        [paymentId, status, options.from ?? ['pending']],
      );
      const row = rows[0];
      if (row && options.notify !== false) await enqueueSms(tx, row.phone, notCompletedText(row, row.language));
      return row;
    });
    if (!finished) return false;
    this.deps.metrics.payments.inc({ provider: finished.provider, status });
    if (options.notify !== false) this.deps.sms.nudge();
    return true;
  }

  private async credit(payment: PaymentRow, providerTransactionId: string | undefined): Promise<SettleOutcome> {
    const tariff = await this.tariffFor(payment.kiosk_id, payment.currency);
    if (!tariff) {
      this.deps.log.error({ paymentId: payment.payment_id, currency: payment.currency }, 'no tariff for the currency');
      return 'pending';
    }
    const amountMinor = Number(payment.amount_minor);
    const creditedMl = millilitresFor(amountMinor, tariff);
    const credited = await this.deps.db.transaction(async (tx) => {
      const claimed = await tx.query(
        `UPDATE payments SET status = 'successful', provider_transaction_id = $2, credited_ml = $3, settled_at = now()
         WHERE payment_id = $1 AND status IN ('pending', 'failed', 'expired') RETURNING payment_id`,
        [payment.payment_id, providerTransactionId ?? null, creditedMl],
      );
      if (claimed.length === 0) return false;
      // The token's counter names the top-up event, so a kiosk that redeems it offline writes the same id.
      const token = await issueToken(tx, payment.account_id, creditedMl);
      const eventId = token?.eventId ?? newId();
      await tx.query('UPDATE payments SET topup_event_id = $2 WHERE payment_id = $1', [payment.payment_id, eventId]);
      const inserted = await appendEvents(tx, [
        {
          event_id: eventId,
          type: 'topup',
          account_id: payment.account_id,
          amount_ml: creditedMl,
          source_id: payment.payment_id,
          occurred_at: Date.now(),
          details: {
            provider: payment.provider,
            amount_minor: amountMinor,
            currency: payment.currency,
            tariff: { ...tariff },
            ...(token ? { token_counter: token.counter } : {}),
          },
        },
      ]);
      if (inserted.size !== 1) throw new Error(`payment ${payment.payment_id} already has a topup event`);
      await this.enqueueCredited(tx, payment, creditedMl, token?.token);
      return true;
    });
    if (!credited) return 'already-settled';
    this.deps.metrics.payments.inc({ provider: payment.provider, status: 'successful' });
    this.deps.log.info(
      { paymentId: payment.payment_id, accountId: payment.account_id, creditedMl, late: payment.status !== 'pending' },
      'payment credited',
    );
    this.deps.sms.nudge();
    return 'credited';
  }

  private async enqueueCredited(
    tx: Queryable,
    payment: PaymentRow,
    creditedMl: number,
    token: string | undefined,
  ): Promise<void> {
    const rows = await tx.query<{ phone: string; language: string; balance_ml: number }>(
      'SELECT phone, language, balance_ml FROM customers WHERE account_id = $1',
      [payment.account_id],
    );
    const customer = rows[0];
    if (!customer) return;
    const paid = paidText(payment);
    const balance = formatLitres(Number(customer.balance_ml));
    const message =
      customer.language === 'sw'
        ? `Tusafishe: Malipo ya ${paid} yamepokelewa. Umeongezewa maji ${formatLitres(creditedMl)}. Salio: ${balance}.`
        : `Tusafishe: ${paid} received. ${formatLitres(creditedMl)} of water added. Balance: ${balance}.`;
    const offline = token ? `\n${tokenInstructions(token, customer.language === 'sw' ? 'sw' : 'en')}` : '';
    await enqueueSms(tx, customer.phone, `${message}${offline}`);
  }
}

const paidText = (payment: Pick<PaymentRow, 'amount_minor' | 'currency'>): string =>
  `${payment.currency} ${toMajorString(Number(payment.amount_minor), payment.currency)}`;

function notCompletedText(payment: Pick<PaymentRow, 'amount_minor' | 'currency'>, language: string | null): string {
  const paid = paidText(payment);
  return language === 'sw'
    ? `Tusafishe: Malipo ya ${paid} hayakukamilika. Hakuna maji yaliyoongezwa. Unaweza kununua tena.`
    : `Tusafishe: Your payment of ${paid} did not go through. No water credit was added. You can buy again.`;
}
