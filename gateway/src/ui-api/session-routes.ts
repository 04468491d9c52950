import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from 'better-sqlite3';
import { ErrorBody, Me, SignedOut, SignInBody } from './api-schemas.js';
import { authenticateTechnician } from './technician-accounts.js';
import { recordAudit } from './technician-audit.js';
import { endSession, SESSION_COOKIE, SESSION_TTL_MS, startSession } from './technician-sessions.js';
import { requireJsonForStateChange, technicianGuard } from './technician-guard.js';

export interface SessionRoutesOptions {
  db: Database;
  /** Set when the UI is served over HTTPS; kiosk WiFi is plain HTTP by default. */
  secureCookie: boolean;
}

/** Sign-in is the one state change open to anyone, so it is rate-limited harder. */
const SIGN_IN_RATE_LIMIT = { max: 10, timeWindow: '1 minute' };

export const sessionRoutes: FastifyPluginAsyncZod<SessionRoutesOptions> = async (app, { db, secureCookie }) => {
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'strict', secure: secureCookie } as const;

  app.post(
    '/api/session',
    {
      config: { rateLimit: SIGN_IN_RATE_LIMIT },
      onRequest: async (request) => requireJsonForStateChange(request),
      schema: {
        summary: 'Sign in',
        tags: ['session'],
        body: SignInBody,
        response: { 200: Me, 401: ErrorBody, 423: ErrorBody },
      },
    },
    async (request, reply) => {
      const technician = await authenticateTechnician(db, request.body.username, request.body.password);
      const token = startSession(db, technician);
      recordAudit(db, { technicianId: technician.technicianId, action: 'sign_in' });
      reply.setCookie(SESSION_COOKIE, token, { ...cookieOptions, maxAge: SESSION_TTL_MS / 1000 });
      return { username: technician.username };
    },
  );

  app.get(
    '/api/session',
    {
      onRequest: technicianGuard(db),
      schema: { summary: 'Who is signed in', tags: ['session'], response: { 200: Me, 401: ErrorBody } },
    },
    async (request) => ({ username: request.technician?.username ?? '' }),
  );

  app.delete(
    '/api/session',
    {
      onRequest: technicianGuard(db),
      schema: { summary: 'Sign out', tags: ['session'], response: { 200: SignedOut, 401: ErrorBody } },
    },
    async (request, reply) => {
      endSession(db, request.cookies[SESSION_COOKIE]);
      recordAudit(db, { technicianId: request.technician?.technicianId ?? null, action: 'sign_out' });
      reply.clearCookie(SESSION_COOKIE, cookieOptions);
      return { signed_out: true } as const;
    },
  );
};
