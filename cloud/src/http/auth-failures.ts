import type { FastifyInstance } from 'fastify';
import { AddressBudget } from '@tusafishe/protocol/address-budget';

/** Who a failed credential was meant for: the route families with their own secret. */
type AuthKind = 'kiosk' | 'operator' | 'webhook';

export interface AuthFailureLimits {
  /** Failed authentications allowed per source address and kind within one window. */
  max: number;
  windowMs: number;
}

const KINDS: [prefix: string, kind: AuthKind][] = [
  ['/kiosk/', 'kiosk'],
  ['/ussd', 'webhook'],
  ['/sms/', 'webhook'],
  ['/payments/', 'webhook'],
];

/**
 * Routes without a credential (health, metrics) are never throttled here. Of the console only
 * the sign-in is: its other routes answer 401 to a browser whose session merely ended.
 */
function kindOf(method: string, url: string): AuthKind | undefined {
  if (method === 'POST' && url.split('?')[0] === '/console/api/session') return 'operator';
  return KINDS.find(([prefix]) => url.startsWith(prefix))?.[1];
}

/**
 * Throttles credential guessing on the kiosk API, the console's sign-in and the webhooks: every 401 is
 * logged and spent from the source address's budget for that kind, and an address with none
 * left is answered 429 before its credential is even looked at (so guessing costs no hashing).
 * The address is `request.ip`, which honours only configured proxies (`trustProxy`).
 */
export function limitAuthFailures(app: FastifyInstance, limits: AuthFailureLimits): void {
  const budgets: Record<AuthKind, AddressBudget> = {
    kiosk: new AddressBudget(limits),
    operator: new AddressBudget(limits),
    webhook: new AddressBudget(limits),
  };
  app.addHook('onRequest', async (request, reply) => {
    const kind = kindOf(request.method, request.url);
    if (!kind || budgets[kind].allows(request.ip)) return;
    request.log.warn({ kind, ip: request.ip }, 'authentication refused: too many failures from this address');
    await reply
      .code(429)
      .header('retry-after', String(Math.ceil(limits.windowMs / 1000)))
      .send({ code: 'AUTH_RATE_LIMITED', message: 'too many failed authentications; try again later' });
  });
  app.addHook('onResponse', async (request, reply) => {
    const kind = kindOf(request.method, request.url);
    if (reply.statusCode !== 401 || !kind) return;
    budgets[kind].spend(request.ip);
    request.log.warn({ kind, ip: request.ip, route: request.routeOptions.url }, 'authentication failed');
  });
}
