import type { FastifyBaseLogger } from 'fastify';
import { newId } from '@tusafishe/protocol';
import type { Customer } from '../customers/customers.js';
import { findCustomer } from '../customers/customers.js';
import { CloudError } from '../errors.js';
import { kioskTariff } from '../kiosks/kiosks.js';
import { appendEvents, lockCustomerChanges } from '../ledger/ledger.js';
import type { CloudMetrics } from '../metrics.js';
import type { SmsSender } from '../sms/sender.js';
import type { Db } from '../store/db.js';
import { chooseProvider } from './provider-choice.js';
import type { CollectionStatus, PaymentProvider, ProviderName } from './provider.js';
import { formatLitres, millilitresFor, toMajorString, type Tariff } from './tariff.js';

export interface PaymentServiceDeps {
  db: Db;
  providers: Partial<Record<ProviderName, PaymentProvider>>;
  /** Used when the network does not say (SMS) and the number range is unknown. */
  fallbackProvider?: ProviderName;
  defaultTariff: Tariff;
  sms: SmsSender;
  metrics: CloudMetrics;
  log: FastifyBaseLogger;
  /** A payment still pending after this long is given up (the customer can buy again). */
  expireAfterMs: number;
}

interface PaymentRow {
  payment_id: string;
  provider: ProviderName;
  account_id: string;
  amount_minor: number | string;
  currency: string;
  kiosk_id: string | null;
  created_at: Date | string;
}

export type SettleOutcome = 'credited' | 'already-settled' | 'pending' | 'failed' | 'expired' | 'mismatch' | 'unknown';

/**
 * Mobile-money top-ups. A payment is credited only after the provider's status query says it
 * succeeded — callbacks are just a hint to ask — and exactly once: the pending→successful
 * transition and the `topup` event (source_id = payment id, unique per type) share a transaction.
 */
export class PaymentService {
  constructor(private readonly deps: PaymentServiceDeps) {}

  providerFor(phone: string, networkCode?: string): PaymentProvider | undefined {
    const name = chooseProvider(phone, networkCode, this.deps.fallbackProvider);
    return name ? this.deps.providers[name] : undefined;
  }

  get currency(): string {
    return this.deps.defaultTariff.currency;
  }

  /** Tariff for a customer's purchase: their kiosk's when they are tied to one kiosk, else the default. */
  async tariffFor(kioskId: string | null): Promise<Tariff> {
    const tariff = kioskId ? await kioskTariff(this.deps.db, kioskId) : undefined;
    return tariff && tariff.currency === this.deps.defaultTariff.currency ? tariff : this.deps.defaultTariff;
  }

  /**
   * Asks the provider to collect `amountMinor` from the customer's phone; the credit follows on
   * confirmation. A repeated `requestKey` (the same USSD session delivered twice) asks only once.
   */
  async start(
    customer: Customer,
    amountMinor: number,
    options: { networkCode?: string; requestKey?: string } = {},
  ): Promise<{ paymentId: string; provider: PaymentProvider }> {
    if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0)
      throw new CloudError('INVALID_AMOUNT', 'amount must be a positive integer');
    const provider = this.providerFor(customer.phone, options.networkCode);
    if (!provider)
      throw new CloudError('PAYMENT_PROVIDER_UNAVAILABLE', `no mobile-money provider for ${customer.phone}`);
    const kioskId = customer.allowed_kiosks?.length === 1 ? customer.allowed_kiosks[0]! : null;
    const inserted = await this.deps.db.query<{ payment_id: string }>(
      `INSERT INTO payments (payment_id, provider, account_id, phone, amount_minor, currency, kiosk_id, status, request_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) ON CONFLICT (request_key) DO NOTHING RETURNING payment_id::text`,
      [
        newId(),
        provider.name,
        customer.account_id,
        customer.phone,
        amountMinor,
        this.currency,
        kioskId,
        options.requestKey ?? null,
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
      await provider.requestToPay({
        reference: paymentId,
        phone: customer.phone,
        amountMinor,
        currency: this.currency,
        description: `Tusafishe water ${customer.account_id}`,
      });
    } catch (error) {
      await this.finish(paymentId, 'failed');
      this.deps.log.error({ err: error, paymentId, provider: provider.name }, 'payment request failed');
      throw new CloudError('PAYMENT_REQUEST_FAILED', 'the provider did not accept the payment request');
    }
    this.deps.log.info(
      { paymentId, provider: provider.name, accountId: customer.account_id, amountMinor },
      'payment requested',
    );
    return { paymentId, provider };
  }

  /** Asks the provider for the payment's status and applies it. Safe to call any number of times, concurrently too. */
  async settle(paymentId: string): Promise<SettleOutcome> {
    const rows = await this.deps.db.query<PaymentRow & { status: string }>(
      'SELECT payment_id, provider, account_id, amount_minor, currency, kiosk_id, created_at, status FROM payments WHERE payment_id::text = $1',
      [paymentId],
    );
    const payment = rows[0];
    if (!payment) return 'unknown';
    if (payment.status !== 'pending') return 'already-settled';
    const provider = this.deps.providers[payment.provider];
    if (!provider) return 'pending';
    let status: CollectionStatus;
    try {
      status = await provider.status(payment.payment_id);
    } catch (error) {
      this.deps.log.warn({ err: error, paymentId }, 'payment status query failed; will retry');
      return 'pending';
    }
    if (status.status === 'failed') return (await this.finish(paymentId, 'failed')) ? 'failed' : 'already-settled';
    if (status.status === 'pending') {
      const age = Date.now() - new Date(payment.created_at).getTime();
      if (age < this.deps.expireAfterMs) return 'pending';
      return (await this.finish(paymentId, 'expired')) ? 'expired' : 'already-settled';
    }
    const amountMinor = Number(payment.amount_minor);
    if (
      (status.amountMinor !== undefined && status.amountMinor !== amountMinor) ||
      (status.currency && status.currency !== payment.currency)
    ) {
      this.deps.log.error(
        { paymentId, expected: amountMinor, reported: status.amountMinor },
        'provider reports a different amount: not credited',
      );
      return (await this.finish(paymentId, 'mismatch')) ? 'mismatch' : 'already-settled';
    }
    return this.credit(payment, status.providerTransactionId);
  }

  /** Settles every pending payment (the job behind lost callbacks); returns how many were credited. */
  async pollPending(limit = 200): Promise<number> {
    const rows = await this.deps.db.query<{ payment_id: string }>(
      `SELECT payment_id::text AS payment_id FROM payments WHERE status = 'pending' ORDER BY created_at LIMIT $1`,
      [limit],
    );
    let credited = 0;
    for (const row of rows) if ((await this.settle(row.payment_id)) === 'credited') credited += 1;
    return credited;
  }

  private async finish(paymentId: string, status: 'failed' | 'expired' | 'mismatch'): Promise<boolean> {
    const rows = await this.deps.db.query(
      `UPDATE payments SET status = $2, settled_at = now() WHERE payment_id::text = $1 AND status = 'pending' RETURNING provider`,
      [paymentId, status],
    );
    if (rows.length > 0) this.deps.metrics.payments.inc({ provider: String(rows[0]!['provider']), status });
    return rows.length > 0;
  }

  private async credit(payment: PaymentRow, providerTransactionId: string | undefined): Promise<SettleOutcome> {
    const tariff = await this.tariffFor(payment.kiosk_id);
    const amountMinor = Number(payment.amount_minor);
    const creditedMl = millilitresFor(amountMinor, tariff);
    const eventId = newId();
    const credited = await this.deps.db.transaction(async (tx) => {
      await lockCustomerChanges(tx);
      const claimed = await tx.query(
        `UPDATE payments SET status = 'successful', provider_transaction_id = $2, credited_ml = $3, topup_event_id = $4, settled_at = now()
         WHERE payment_id = $1 AND status = 'pending' RETURNING payment_id`,
        [payment.payment_id, providerTransactionId ?? null, creditedMl, eventId],
      );
      if (claimed.length === 0) return false;
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
          },
        },
      ]);
      if (inserted.size !== 1) throw new Error(`payment ${payment.payment_id} already has a topup event`);
      return true;
    });
    if (!credited) return 'already-settled';
    this.deps.metrics.payments.inc({ provider: payment.provider, status: 'successful' });
    this.deps.log.info(
      { paymentId: payment.payment_id, accountId: payment.account_id, creditedMl },
      'payment credited',
    );
    await this.notifyCredited(payment, creditedMl);
    return 'credited';
  }

  private async notifyCredited(payment: PaymentRow, creditedMl: number): Promise<void> {
    const customer = await findCustomer(this.deps.db, payment.account_id);
    if (!customer) return;
    const paid = `${payment.currency} ${toMajorString(Number(payment.amount_minor), payment.currency)}`;
    const message =
      customer.language === 'sw'
        ? `Tusafishe: Malipo ya ${paid} yamepokelewa. Umeongezewa maji ${formatLitres(creditedMl)}. Salio: ${formatLitres(customer.balance_ml)}.`
        : `Tusafishe: ${paid} received. ${formatLitres(creditedMl)} of water added. Balance: ${formatLitres(customer.balance_ml)}.`;
    await this.deps.sms
      .send(customer.phone, message)
      .catch((error: unknown) => this.deps.log.warn({ err: error }, 'credit SMS not sent'));
  }
}
