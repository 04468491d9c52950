import type { FastifyReply, FastifyRequest } from 'fastify';
import { secretMatcher } from './secret-match.js';

/** Header a caller may use instead of the query parameter. */
const WEBHOOK_SECRET_HEADER = 'x-webhook-secret';
/** Query parameter, for providers that only let you configure a callback URL (Africa's Talking, MoMo's X-Callback-Url). */
const WEBHOOK_SECRET_PARAM = 'token';

/**
 * onRequest hook that rejects webhooks without the shared secret (`?token=` or `X-Webhook-Secret`).
 * With no secret configured (development only; production refuses to start) every call passes.
 */
export function requireWebhookSecret(secret: string | undefined) {
  const matches = secret ? secretMatcher(secret) : undefined;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!matches) return;
    const query = request.query as Record<string, unknown> | undefined;
    const offered = request.headers[WEBHOOK_SECRET_HEADER] ?? query?.[WEBHOOK_SECRET_PARAM];
    if (matches(offered)) return;
    request.log.warn({ route: request.routeOptions.url }, 'webhook without a valid shared secret');
    await reply.code(401).send({ code: 'WEBHOOK_UNAUTHORISED', message: 'missing or wrong webhook secret' });
  };
}

/** Appends the secret to a callback URL we hand to a provider. */
export function withWebhookSecret(url: string, secret: string | undefined): string {
  if (!secret) return url;
  const parsed = new URL(url);
  parsed.searchParams.set(WEBHOOK_SECRET_PARAM, secret);
  return parsed.toString();
}
