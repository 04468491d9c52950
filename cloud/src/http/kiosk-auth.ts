import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KioskAuthenticator } from '../kiosks/kiosks.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireKiosk` once the gateway's credential checked out. */
    kioskId: string;
  }
}

/** `Basic base64(kiosk_id:secret)` → its parts, or undefined. */
function parseBasicAuth(header: string | undefined): { user: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) } : undefined;
}

export function requireKiosk(authenticator: KioskAuthenticator) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const credential = parseBasicAuth(request.headers.authorization);
    if (credential && (await authenticator.authenticate(credential.user, credential.secret))) {
      request.kioskId = credential.user;
      return;
    }
    await reply
      .code(401)
      .header('www-authenticate', 'Basic realm="tusafishe-kiosk"')
      .send({ code: 'KIOSK_UNAUTHORISED', message: 'kiosk id or secret is wrong' });
  };
}

/** Whether the credential a request came with still holds (a stream checks before each page: a rotated secret ends it). */
export function stillAuthenticated(authenticator: KioskAuthenticator, request: FastifyRequest): Promise<boolean> {
  const credential = parseBasicAuth(request.headers.authorization);
  return credential ? authenticator.authenticate(credential.user, credential.secret) : Promise.resolve(false);
}

/**
 * The log level of the routes every kiosk calls all day (a long-poll about twice a second, before the stream; its
 * pushes, its status report): at info, fastify's two lines a request are some 200 million lines a
 * day at 600 kiosks. Warnings and errors on them still log.
 */
export const KIOSK_ROUTE_LOG_LEVEL = 'warn';
