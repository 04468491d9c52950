import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { audit } from '../admin/adjustments.js';
import type { Db } from '../store/db.js';
import { ErrorBody, Me, PasswordChangeBody, SignedOut, SignInBody } from './api-schemas.js';
import { ANY_ROLE, signedInOperator } from './console-guard.js';
import { authenticateOperator, changeOwnPassword } from './operator-accounts.js';
import { endOtherSessions, endSession, SESSION_COOKIE, SESSION_TTL_MS, startSession } from './operator-sessions.js';

export interface SessionRoutesOptions {
  db: Db;
  /** `Secure` cookies: the cloud is served over HTTPS (behind its proxy in production). */
  secureCookie: boolean;
}

/** Sign-in is the one state change open to anyone, so it is rate-limited harder (and failures are budgeted). */
const SIGN_IN_RATE_LIMIT = { max: 20, timeWindow: '1 minute' };

/** `POST`/`GET`/`DELETE /console/api/session`: sign in, who am I, sign out; `POST /session/password`: my password. */
export const sessionRoutes: FastifyPluginAsyncZod<SessionRoutesOptions> = async (app, { db, secureCookie }) => {
  const cookieOptions = { path: '/console', httpOnly: true, sameSite: 'strict', secure: secureCookie } as const;

  app.post(
    '/session',
    {
      config: { signIn: true, rateLimit: SIGN_IN_RATE_LIMIT },
      schema: {
        summary: 'Sign in (sets the session cookie)',
        tags: ['console session'],
        body: SignInBody,
        response: { 200: Me, 401: ErrorBody, 423: ErrorBody },
      },
    },
    async (request, reply) => {
      const operator = await authenticateOperator(db, request.body.username, request.body.password);
      const token = await startSession(db, operator);
      await audit(db, operator.username, 'operator.sign_in', operator.username, {});
      reply.setCookie(SESSION_COOKIE, token, { ...cookieOptions, maxAge: SESSION_TTL_MS / 1000 });
      return { username: operator.username, role: operator.role };
    },
  );

  app.get(
    '/session',
    {
      config: { roles: ANY_ROLE },
      schema: { summary: 'Who is signed in, and their role', tags: ['console session'], response: { 200: Me } },
    },
    async (request) => {
      const operator = signedInOperator(request);
      return { username: operator.username, role: operator.role };
    },
  );

  app.delete(
    '/session',
    {
      config: { roles: ANY_ROLE },
      schema: { summary: 'Sign out', tags: ['console session'], response: { 200: SignedOut } },
    },
    async (request, reply) => {
      const operator = signedInOperator(request);
      await endSession(db, request.cookies[SESSION_COOKIE]);
      await audit(db, operator.username, 'operator.sign_out', operator.username, {});
      reply.clearCookie(SESSION_COOKIE, cookieOptions);
      return { signed_out: true } as const;
    },
  );

  app.post(
    '/session/password',
    {
      // Each try runs the costly hash, like a sign-in.
      config: { roles: ANY_ROLE, rateLimit: SIGN_IN_RATE_LIMIT },
      schema: {
        summary: 'Change my own password (the current one first); my other sessions end',
        tags: ['console session'],
        body: PasswordChangeBody,
        response: { 200: Me, 400: ErrorBody, 423: ErrorBody },
      },
    },
    async (request) => {
      const me = signedInOperator(request);
      const { current_password: current, new_password: next } = request.body;
      await changeOwnPassword(db, me.username, { current, next });
      await endOtherSessions(db, me.operatorId, request.cookies[SESSION_COOKIE]);
      await audit(db, me.username, 'operator.password_change', me.username, {});
      return { username: me.username, role: me.role };
    },
  );
};
