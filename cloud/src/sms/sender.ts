import africastalking from 'africastalking';
import type { FastifyBaseLogger } from 'fastify';
import type { Queryable } from '../store/db.js';

/** Where outgoing SMS go: Africa's Talking in production, the database in development. */
export interface SmsSender {
  send(phone: string, message: string): Promise<void>;
}

export interface AfricasTalkingSmsConfig {
  username: string;
  apiKey: string;
  /** Registered sender id or short code; omitted uses Africa's Talking's default. */
  from?: string;
}

/** Sends through Africa's Talking's SMS API (username "sandbox" talks to their sandbox). */
export function africasTalkingSmsSender(config: AfricasTalkingSmsConfig, log: FastifyBaseLogger): SmsSender {
  const client = africastalking({ apiKey: config.apiKey, username: config.username });
  return {
    async send(phone, message) {
      const result = await client.SMS.send({ to: [phone], message, ...(config.from ? { from: config.from } : {}) });
      const recipient = result.SMSMessageData.Recipients[0];
      if (!recipient || recipient.statusCode > 102) {
        // 100-102 mean processed, sent or queued; anything else is a refusal worth seeing.
        log.warn(
          { status: recipient?.status ?? result.SMSMessageData.Message },
          "SMS not accepted by Africa's Talking",
        );
      }
    },
  };
}

/** Development: keeps messages in `sms_outbox`, readable at GET /dev/sms/outbox. */
export function databaseSmsSender(db: Queryable): SmsSender {
  return {
    async send(phone, message) {
      await db.query('INSERT INTO sms_outbox (phone, message) VALUES ($1, $2)', [phone, message]);
    },
  };
}

export interface OutboxMessage {
  id: number;
  phone: string;
  message: string;
  created_at: string;
}

export async function readOutbox(db: Queryable, phone?: string, limit = 100): Promise<OutboxMessage[]> {
  const rows = await db.query<OutboxMessage>(
    `SELECT id, phone, message, created_at::text FROM sms_outbox WHERE $1::text IS NULL OR phone = $1 ORDER BY id DESC LIMIT $2`,
    [phone ?? null, limit],
  );
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}
