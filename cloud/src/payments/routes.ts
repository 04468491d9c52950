import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { requireWebhookSecret } from '../http/webhook-secret.js';
import { verifyAirtelCallbackHash } from './airtel-money.js';
import type { PaymentService } from './payments.js';

export interface PaymentRoutesDeps {
  payments: PaymentService;
  webhookSecret: string | undefined;
  airtelCallbackHashKey: string | undefined;
  callbacksPerMinute: number;
}

/** MoMo callback body (requesttopay): we set externalId to our payment id. */
const MtnCallback = z.looseObject({ externalId: z.string().max(64), status: z.string().max(32).optional() });
/** Airtel collection callback; field order as Airtel sends it, which the optional hash covers. */
const AirtelCallback = z.looseObject({
  transaction: z.looseObject({
    id: z.string().max(64),
    message: z.string().max(500).optional(),
    status_code: z.string().max(8),
    airtel_money_id: z.string().max(64).optional(),
  }),
  hash: z.string().max(200).optional(),
});

/**
 * Provider callbacks only prompt a status query; their own status field is never believed, so a
 * forged, replayed or lost callback cannot credit anything twice or at all.
 */
export async function paymentRoutes(app: FastifyInstance, deps: PaymentRoutesDeps): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireWebhookSecret(deps.webhookSecret);
  const config = { rateLimit: { max: deps.callbacksPerMinute, timeWindow: 60_000 } };

  const settle = async (request: FastifyRequest, reply: FastifyReply, reference: string): Promise<FastifyReply> => {
    const outcome = await deps.payments.settle(reference);
    request.log.info({ reference, outcome }, 'payment callback handled');
    return reply.code(200).send({ received: true });
  };

  typed.route({
    method: ['PUT', 'POST'],
    url: '/payments/mtn/callback',
    schema: { body: MtnCallback },
    onRequest,
    config,
    handler: (request, reply) => settle(request, reply, request.body.externalId),
  });

  typed.post(
    '/payments/airtel/callback',
    { schema: { body: AirtelCallback }, onRequest, config },
    async (request, reply) => {
      if (
        deps.airtelCallbackHashKey &&
        !verifyAirtelCallbackHash(request.body.transaction, request.body.hash, deps.airtelCallbackHashKey)
      ) {
        request.log.warn({ reference: request.body.transaction.id }, 'Airtel callback with a bad hash ignored');
        return reply.code(401).send({ code: 'BAD_CALLBACK_HASH', message: 'callback hash does not verify' });
      }
      return settle(request, reply, request.body.transaction.id);
    },
  );
}
