import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { secretMatcher } from './secret-match.js';

/** Header a caller may use instead of the query parameter. */
const WEBHOOK_SECRET_HEADER = 'x-webhook-secret';
/** Query parameter, for providers that only let you configure a callback URL (Africa's Talking, Daraja). */
const WEBHOOK_SECRET_PARAM = 'token';

async function unauthorised(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  request.log.warn({ route: request.routeOptions.url }, 'webhook without a valid shared secret');
  await reply.code(401).send({ code: 'WEBHOOK_UNAUTHORISED', message: 'missing or wrong webhook secret' });
}

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
    if (!matches(offered)) await unauthorised(request, reply);
  };
}

/**
 * A token for one callback URL, derived from the provider's secret: the URL a provider keeps in
 * its logs then opens only that one callback (for a payment: a status query), never the secret.
 */
export function callbackToken(secret: string, subject: string): string {
  return createHmac('sha256', secret).update(subject).digest('base64url');
}

/** onRequest hook for a URL carrying `?token=callbackToken(secret, subject)`; the subject comes from the path. */
export function requireCallbackToken(secret: string | undefined, subjectOf: (request: FastifyRequest) => string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!secret) return;
    const offered = (request.query as Record<string, unknown> | undefined)?.[WEBHOOK_SECRET_PARAM];
    if (!secretMatcher(callbackToken(secret, subjectOf(request)))(offered)) await unauthorised(request, reply);
  };
}

/** Adds a callback token (or nothing, without a secret) to a callback URL we hand to a provider. */
export function withCallbackToken(url: string, secret: string | undefined, subject: string): string {
  if (!secret) return url;
  const parsed = new URL(url);
  parsed.searchParams.set(WEBHOOK_SECRET_PARAM, callbackToken(secret, subject));
  return parsed.toString();
}

/** Appends the whole secret to a callback URL, for a provider that can send neither a header nor a signature. */
export function withWebhookSecret(url: string, secret: string | undefined): string {
  if (!secret) return url;
  const parsed = new URL(url);
  parsed.searchParams.set(WEBHOOK_SECRET_PARAM, secret);
  return parsed.toString();
}
