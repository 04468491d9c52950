import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { audit } from '../admin/adjustments.js';
import { findCustomer } from '../customers/customers.js';
import { requireCallbackToken, requireWebhookSecret } from '../http/webhook-secret.js';
import type { Db } from '../store/db.js';
import { verifyAirtelCallbackHash } from './airtel-money.js';
import type { PaymentService, SettleHint } from './payments.js';

/** One secret per provider, so a leak at one provider opens nothing at another. */
interface ProviderSecrets {
  mtn: string | undefined;
  airtel: string | undefined;
  mpesa: string | undefined;
}

export interface PaymentRoutesDeps {
  db: Db;
  payments: PaymentService;
  secrets: ProviderSecrets;
  airtelCallbackHashKey: string | undefined;
  /** Our M-Pesa paybill, when M-Pesa is configured (C2B validation refuses another). */
  mpesaShortcode: string | undefined;
  callbacksPerMinute: number;
}

/** Subject of the token in the C2B validation and confirmation URLs. */
export const C2B_TOKEN_SUBJECT = 'daraja-c2b';

/** MoMo callback body (requesttopay): we set externalId to our payment id. */
const MtnCallback = z.looseObject({ externalId: z.string().max(64), status: z.string().max(32).optional() });
/** Airtel collection callback; the hash covers the raw bytes of `transaction`. */
const AirtelCallback = z.looseObject({
  transaction: z.looseObject({
    id: z.string().max(64),
    message: z.string().max(500).optional(),
    status_code: z.string().max(8),
    airtel_money_id: z.string().max(64).optional(),
  }),
  hash: z.string().max(200).optional(),
});
/** Daraja's STK result; `CallbackMetadata` only when ResultCode is 0. */
const StkCallback = z.looseObject({
  Body: z.looseObject({
    stkCallback: z.looseObject({
      MerchantRequestID: z.string().max(100).optional(),
      CheckoutRequestID: z.string().min(1).max(100),
      ResultCode: z.coerce.number().int(),
      ResultDesc: z.string().max(500).optional(),
      CallbackMetadata: z
        .looseObject({
          Item: z.array(z.looseObject({ Name: z.string().max(50), Value: z.unknown().optional() })).max(20),
        })
        .optional(),
    }),
  }),
});
/** Daraja C2B validation and confirmation body. */
const C2bNotice = z.looseObject({
  TransactionType: z.string().max(40).optional(),
  TransID: z.string().min(1).max(40),
  TransAmount: z.string().regex(/^\d{1,9}(\.\d{1,2})?$/),
  BusinessShortCode: z.coerce.string().max(20),
  BillRefNumber: z.string().max(40).default(''),
  MSISDN: z.coerce.string().max(80).optional(),
});
const UuidParam = z.object({ paymentId: z.uuid() });

/** "100.00" → 10000: decimal text to minor units without floating point. */
function shillingsToMinor(text: string): number {
  const [whole = '0', cents = ''] = text.split('.');
  return Number(whole) * 100 + Number(cents.padEnd(2, '0'));
}

const rawBodies = new WeakMap<FastifyRequest, string>();

/**
 * Provider callbacks only prompt a status query; their own status field is never believed, so a
 * forged, replayed or lost callback cannot credit anything twice or at all. The one exception is
 * a C2B confirmation: Daraja sends it only for a completed paybill payment, and it is credited
 * once per M-Pesa transaction id.
 */
export async function paymentRoutes(app: FastifyInstance, deps: PaymentRoutesDeps): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const config = { rateLimit: { max: deps.callbacksPerMinute, timeWindow: 60_000 } };
  const byPaymentId = (request: FastifyRequest): string => (request.params as { paymentId?: string }).paymentId ?? '';

  const settle = async (
    request: FastifyRequest,
    reply: FastifyReply,
    reference: string,
    hint: SettleHint = {},
    answer: unknown = { received: true },
  ): Promise<FastifyReply> => {
    const outcome = await deps.payments.settle(reference, hint);
    request.log.info({ reference, outcome }, 'payment callback handled');
    return reply.code(200).send(answer);
  };

  // The whole MTN secret (header or query) for a callback URL set by hand.
  typed.route({
    method: ['PUT', 'POST'],
    url: '/payments/mtn/callback',
    schema: { body: MtnCallback },
    onRequest: requireWebhookSecret(deps.secrets.mtn),
    config,
    handler: (request, reply) => settle(request, reply, request.body.externalId),
  });
  // The X-Callback-Url we give MoMo per payment: a token for that payment only.
  typed.route({
    method: ['PUT', 'POST'],
    url: '/payments/mtn/callback/:paymentId',
    schema: { params: UuidParam, body: MtnCallback },
    onRequest: requireCallbackToken(deps.secrets.mtn, byPaymentId),
    config,
    handler: (request, reply) => settle(request, reply, request.params.paymentId),
  });

  // Airtel posts to one URL set on its portal. With a hash key its signature authenticates the
  // callback (no secret in the URL); without one, the Airtel webhook secret must come along.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      rawBodies.set(request, body as string);
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(Object.assign(new Error('body is not JSON'), { statusCode: 400 }), undefined);
      }
    });
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/payments/airtel/callback',
      {
        schema: { body: AirtelCallback },
        onRequest: requireWebhookSecret(deps.airtelCallbackHashKey ? undefined : deps.secrets.airtel),
        config,
      },
      async (request, reply) => {
        const key = deps.airtelCallbackHashKey;
        if (key && !verifyAirtelCallbackHash(rawBodies.get(request) ?? '', request.body.hash, key)) {
          request.log.warn({ reference: request.body.transaction.id }, 'Airtel callback with a bad hash ignored');
          return reply.code(401).send({ code: 'BAD_CALLBACK_HASH', message: 'callback hash does not verify' });
        }
        return settle(request, reply, request.body.transaction.id);
      },
    );
  });

  // Daraja's STK result, at the per-payment URL we gave in CallBackURL (Daraja refuses URLs naming M-Pesa).
  typed.post(
    '/payments/daraja/stk/:paymentId',
    {
      schema: { params: UuidParam, body: StkCallback },
      onRequest: requireCallbackToken(deps.secrets.mpesa, byPaymentId),
      config,
    },
    async (request, reply) => {
      const result = request.body.Body.stkCallback;
      const receipt = result.CallbackMetadata?.Item.find((item) => item.Name === 'MpesaReceiptNumber')?.Value;
      const hint: SettleHint = {
        providerReference: result.CheckoutRequestID,
        ...(typeof receipt === 'string' && result.ResultCode === 0 ? { providerTransactionId: receipt } : {}),
      };
      return settle(request, reply, request.params.paymentId, hint, { ResultCode: 0, ResultDesc: 'Accepted' });
    },
  );

  const c2bToken = requireCallbackToken(deps.secrets.mpesa, () => C2B_TOKEN_SUBJECT);
  /** The customer whose account id the payer typed, if they may be credited. */
  const payee = async (notice: z.infer<typeof C2bNotice>) => {
    if (!deps.mpesaShortcode || notice.BusinessShortCode !== deps.mpesaShortcode) return undefined;
    const customer = await findCustomer(deps.db, notice.BillRefNumber.trim().toUpperCase());
    return customer && customer.status !== 'suspended' ? customer : undefined;
  };

  typed.post(
    '/payments/daraja/c2b/validation',
    { schema: { body: C2bNotice }, onRequest: c2bToken, config },
    async (request) => {
      const customer = await payee(request.body);
      const amountMinor = shillingsToMinor(request.body.TransAmount);
      if (!customer) return { ResultCode: 'C2B00012', ResultDesc: 'Rejected' }; // invalid account number
      if (amountMinor <= 0 || amountMinor % 100 !== 0) return { ResultCode: 'C2B00013', ResultDesc: 'Rejected' };
      return { ResultCode: '0', ResultDesc: 'Accepted' };
    },
  );

  typed.post(
    '/payments/daraja/c2b/confirmation',
    { schema: { body: C2bNotice }, onRequest: c2bToken, config },
    async (request) => {
      const notice = request.body;
      const customer = await payee(notice);
      if (!customer) {
        // Validation refuses these, so only a validation outage lets one through: keep it for the operators.
        await audit(deps.db, 'daraja', 'payment.unmatched', notice.TransID, { ...notice });
        request.log.error({ transId: notice.TransID }, 'paybill payment for no customer: kept in the audit log');
        return { ResultCode: 0, ResultDesc: 'Accepted' };
      }
      const outcome = await deps.payments.creditPaybill({
        provider: 'mpesa',
        transactionId: notice.TransID,
        customer,
        amountMinor: shillingsToMinor(notice.TransAmount),
        currency: 'KES',
      });
      request.log.info({ transId: notice.TransID, outcome }, 'paybill payment confirmed');
      return { ResultCode: 0, ResultDesc: 'Accepted' };
    },
  );
}
