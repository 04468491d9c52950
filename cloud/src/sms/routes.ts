import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { isValidPhone, normalisePhone } from '@tusafishe/protocol/phone';
import { findCustomerByPhone } from '../customers/customers.js';
import { register } from '../customers/registration.js';
import { phoneKey } from '../http/phone-key.js';
import { requireWebhookSecret } from '../http/webhook-secret.js';
import type { CloudMetrics } from '../metrics.js';
import type { PaymentService } from '../payments/payments.js';
import { buyWater, purchaseLimits, type PurchaseBounds } from '../payments/purchase.js';
import type { Db } from '../store/db.js';
import { answerSms } from './commands.js';
import { readOutbox, type SmsSender } from './sender.js';

export interface SmsDeps {
  db: Db;
  sender: SmsSender;
  payments: PaymentService;
  limits: PurchaseBounds;
  metrics: CloudMetrics;
  webhookSecret: string | undefined;
  /** Requests per phone per window. */
  phoneLimit: { max: number; timeWindow: number };
  ussdCode: string;
  /** Exposes GET /dev/sms/outbox (development adapter only). */
  exposeOutbox: boolean;
}

/** Africa's Talking incoming-message callback, form-encoded. */
const InboundSms = z.object({
  from: z.string().min(6).max(20),
  to: z.string().max(20).optional(),
  text: z.string().max(1000).default(''),
  date: z.string().max(40).optional(),
  id: z.string().min(1).max(100),
  linkId: z.string().max(100).optional(),
});

/** POST /sms/inbound: REGISTER, BALANCE, STATUS, BUY, HELP (and Swahili keywords); each message id is handled once. */
export async function smsRoutes(app: FastifyInstance, deps: SmsDeps): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.post(
    '/sms/inbound',
    {
      schema: { body: InboundSms },
      onRequest: requireWebhookSecret(deps.webhookSecret),
      config: {
        rateLimit: {
          ...deps.phoneLimit,
          keyGenerator: (request) =>
            `sms:${phoneKey((request.body as { from?: unknown } | undefined)?.from, request.ip)}`,
        },
      },
    },
    async (request, reply) => {
      let phone: string;
      try {
        phone = normalisePhone(request.body.from);
      } catch {
        deps.metrics.smsInbound.inc({ outcome: 'bad-sender' });
        return reply.code(200).send({ handled: false });
      }
      const fresh = await deps.db.query(
        'INSERT INTO sms_inbound (message_id, phone) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING message_id',
        [request.body.id, phone],
      );
      if (fresh.length === 0) {
        deps.metrics.smsInbound.inc({ outcome: 'duplicate' });
        return reply.code(200).send({ handled: false, duplicate: true });
      }
      const customer = await findCustomerByPhone(deps.db, phone);
      const answer = await answerSms(customer, request.body.text, {
        register: (name) => register(deps.db, { phone, name }),
        buy: (who, amountMajor) => buyWater(deps.payments, who, amountMajor, { requestKey: `sms:${request.body.id}` }),
        limits: purchaseLimits(deps.payments, deps.limits, phone),
        ussdCode: deps.ussdCode,
      });
      try {
        await deps.sender.send(phone, answer);
        deps.metrics.smsInbound.inc({ outcome: 'answered' });
      } catch (error) {
        // The message is handled (a retry of the same id would be skipped); the lost reply is logged.
        request.log.error({ err: error }, 'SMS reply not sent');
        deps.metrics.smsInbound.inc({ outcome: 'reply-failed' });
      }
      return reply.code(200).send({ handled: true });
    },
  );

  if (deps.exposeOutbox) {
    typed.get(
      '/dev/sms/outbox',
      {
        schema: {
          querystring: z.object({
            phone: z
              .string()
              .max(20)
              .refine((phone) => isValidPhone(phone), 'not a phone number')
              .optional(),
          }),
        },
      },
      async (request) => ({
        messages: await readOutbox(deps.db, request.query.phone ? normalisePhone(request.query.phone) : undefined),
      }),
    );
  }
}
