import africastalking from 'africastalking';
import type { FastifyBaseLogger } from 'fastify';
import type { ExclusiveJobs } from '../jobs/exclusive-jobs.js';
import type { Db, Queryable } from '../store/db.js';

/** Where outgoing SMS go: queued durably, then handed to the SMS provider until it accepts them. */
export interface SmsSender {
  send(phone: string, message: string): Promise<void>;
}

/** What the SMS provider said about one message. */
export type SmsDelivery =
  | { outcome: 'accepted'; messageId?: string }
  | { outcome: 'retry'; detail: string }
  | { outcome: 'rejected'; detail: string };

/** Hands one message to an SMS provider; throwing counts as `retry`. */
export interface SmsTransport {
  deliver(phone: string, message: string): Promise<SmsDelivery>;
}

export interface AfricasTalkingSmsConfig {
  username: string;
  apiKey: string;
  /** Registered sender id or short code; omitted uses Africa's Talking's default. */
  from?: string;
}

/**
 * Africa's Talking per-recipient status codes: 100 Processed, 101 Sent, 102 Queued are accepted;
 * 403 InvalidPhoneNumber, 404 UnsupportedNumberType, 406 UserInBlacklist and 409
 * DoNotDisturbRejection will never be accepted for this number; the rest (401 RiskHold,
 * 402 InvalidSenderId, 405 InsufficientBalance, 407 CouldNotRoute, 5xx) may pass later.
 */
export function classifyAfricasTalkingStatus(statusCode: number, status: string): SmsDelivery {
  if (statusCode >= 100 && statusCode <= 102) return { outcome: 'accepted' };
  const detail = `${statusCode} ${status}`;
  return [403, 404, 406, 409].includes(statusCode) ? { outcome: 'rejected', detail } : { outcome: 'retry', detail };
}

/** Africa's Talking's SMS API (username "sandbox" talks to their sandbox). */
export function africasTalkingTransport(config: AfricasTalkingSmsConfig): SmsTransport {
  const client = africastalking({ apiKey: config.apiKey, username: config.username });
  return {
    async deliver(phone, message) {
      const result = await client.SMS.send({ to: [phone], message, ...(config.from ? { from: config.from } : {}) });
      const recipient = result.SMSMessageData.Recipients[0];
      if (!recipient) return { outcome: 'retry', detail: result.SMSMessageData.Message };
      const delivery = classifyAfricasTalkingStatus(recipient.statusCode, recipient.status);
      return delivery.outcome === 'accepted' && recipient.messageId
        ? { outcome: 'accepted', messageId: recipient.messageId }
        : delivery;
    },
  };
}

/** What the development adapter hands to a local reader (`npm start`'s terminal, the demo's phone). */
export type DevelopmentSmsTap = (sms: { phone: string; message: string }) => void;

/**
 * Development: nothing leaves the machine; messages are read at GET /dev/sms/outbox, and each is
 * also handed to `tap` when given (never the logger: a message may carry a PIN-reset code).
 */
export function developmentTransport(tap?: DevelopmentSmsTap): SmsTransport {
  return {
    deliver: async (phone, message) => {
      tap?.({ phone, message });
      return { outcome: 'accepted' };
    },
  };
}

/** Puts one message in the outbox; call inside the transaction whose outcome it announces. */
export async function enqueueSms(db: Queryable, phone: string, message: string): Promise<void> {
  await db.query(`INSERT INTO sms_outbox (phone, message, status) VALUES ($1, $2, 'queued')`, [phone, message]);
}

export interface SmsOutboxOptions {
  /** First retry after this long, doubling up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /** A message being handed over is not claimed by another instance for this long. */
  leaseMs?: number;
  batch?: number;
  /** How often due messages are looked for (by one instance at a time). Default 5 s. */
  sweepMs?: number;
}

/**
 * The durable SMS outbox: every message is a row first, then handed to the transport; one the
 * provider does not accept is retried with backoff until it is, so a provider outage loses
 * nothing. Instances claim rows with FOR UPDATE SKIP LOCKED, so each message goes out once.
 */
export class SmsOutbox implements SmsSender {
  private running: Promise<number> | undefined;
  private again = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Number.POSITIVE_INFINITY;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly leaseMs: number;
  private readonly batch: number;
  private readonly sweepMs: number;

  constructor(
    private readonly db: Db,
    private readonly transport: SmsTransport,
    private readonly log: FastifyBaseLogger,
    options: SmsOutboxOptions = {},
  ) {
    this.retryMs = options.retryMs ?? 10_000;
    this.maxRetryMs = options.maxRetryMs ?? 600_000;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.batch = options.batch ?? 50;
    this.sweepMs = options.sweepMs ?? 5_000;
  }

  async send(phone: string, message: string): Promise<void> {
    await enqueueSms(this.db, phone, message);
    this.nudge();
  }

  /** Hands queued messages over soon (after a commit that queued some). */
  nudge(): void {
    if (this.stopped) return;
    void this.dispatch().catch((error: unknown) => this.log.error({ err: error }, 'SMS outbox dispatch failed'));
  }

  /** Sends due messages every `sweepMs` until `jobs` stop, on one instance at a time. */
  start(jobs: ExclusiveJobs): void {
    jobs.schedule('sms-outbox', this.sweepMs, () => this.dispatch());
  }

  /** Stops retrying and waits for a hand-over under way (queued messages wait for the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.running?.catch(() => undefined);
  }

  /** Hands every due message to the transport once; resolves to how many were accepted. */
  async dispatch(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.dispatchDue().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.nudge();
      }
    });
    return this.running;
  }

  private async dispatchDue(): Promise<number> {
    let accepted = 0;
    for (;;) {
      const due = await this.db.query<{ id: number; phone: string; message: string; attempts: number }>(
        `UPDATE sms_outbox SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
         WHERE id IN (SELECT id FROM sms_outbox WHERE status = 'queued' AND next_attempt_at <= now()
                      ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING id, phone, message, attempts`,
        [this.batch, this.leaseMs],
      );
      for (const row of due) if (await this.deliverOne(row)) accepted += 1;
      if (due.length < this.batch) return accepted;
    }
  }

  private async deliverOne(row: { id: number; phone: string; message: string; attempts: number }): Promise<boolean> {
    let delivery: SmsDelivery;
    try {
      delivery = await this.transport.deliver(row.phone, row.message);
    } catch (error) {
      delivery = { outcome: 'retry', detail: (error as Error).message };
    }
    if (delivery.outcome === 'accepted') {
      await this.db.query(
        `UPDATE sms_outbox SET status = 'sent', attempts = attempts + 1, last_error = NULL, provider_message_id = $2 WHERE id = $1`,
        [row.id, delivery.messageId ?? null],
      );
      return true;
    }
    const retryInMs = Math.min(this.maxRetryMs, this.retryMs * 2 ** row.attempts);
    await this.db.query(
      `UPDATE sms_outbox SET status = $2, attempts = attempts + 1, last_error = $3,
         next_attempt_at = now() + make_interval(secs => $4::double precision / 1000) WHERE id = $1`,
      [row.id, delivery.outcome === 'rejected' ? 'rejected' : 'queued', delivery.detail.slice(0, 200), retryInMs],
    );
    this.log.warn({ smsId: row.id, outcome: delivery.outcome, detail: delivery.detail }, 'SMS not accepted');
    if (delivery.outcome === 'retry') this.retryIn(retryInMs);
    return false;
  }

  /** Wakes up when the earliest retry is due, not at the next tick of the periodic sweep. */
  private retryIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.stopped || at >= this.retryAt) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryAt = Number.POSITIVE_INFINITY;
      this.nudge();
    }, ms);
    this.retryTimer.unref();
  }
}

export interface OutboxMessage {
  id: number;
  phone: string;
  message: string;
  status: 'queued' | 'sent' | 'rejected';
  created_at: string;
}

export async function readOutbox(db: Queryable, phone?: string, limit = 100): Promise<OutboxMessage[]> {
  const rows = await db.query<OutboxMessage>(
    `SELECT id, phone, message, status, created_at::text FROM sms_outbox WHERE $1::text IS NULL OR phone = $1 ORDER BY id DESC LIMIT $2`,
    [phone ?? null, limit],
  );
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}
