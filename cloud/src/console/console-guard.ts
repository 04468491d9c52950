import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { CloudError } from '../errors.js';
import type { Queryable } from '../store/db.js';
import { ErrorBody } from './api-schemas.js';
import type { Operator } from './operator-accounts.js';
import { findSession, SESSION_COOKIE } from './operator-sessions.js';
import { OPERATOR_ROLES, roleAllows, type OperatorRole } from './roles.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in operator on `/console/api/` routes (set by the guard). */
    operator: Operator | null;
  }
  interface FastifyContextConfig {
    /** Roles besides `admin` that may call a `/console/api/` route; `[]`: admin only. */
    roles?: readonly OperatorRole[];
    /** The sign-in route: no session needed. */
    signIn?: boolean;
    /** Body type a state change must have, when not JSON (e.g. `text/csv`). */
    stateChangeBody?: string;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery: the cookie is SameSite=Strict, and every state change must also
 * be a JSON request (or the body type a route names), which an HTML form on another site cannot send.
 */
function requireBodyTypeForStateChange(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const expected = request.routeOptions.config.stateChangeBody ?? 'application/json';
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== expected) throw new CloudError('JSON_REQUIRED', `state changes must be sent as ${expected}`);
}

/** A browser request from another origin must not ride on the operator's cookie. */
function requireSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (!URL.canParse(origin) || new URL(origin).host !== request.headers.host) {
    throw new CloudError('CROSS_ORIGIN', 'cross-origin requests are refused');
  }
}

/** The operator the guard let through; for handlers of guarded routes. */
export function signedInOperator(request: FastifyRequest): Operator {
  if (!request.operator) throw new CloudError('NOT_SIGNED_IN', 'sign in first');
  return request.operator;
}

/**
 * Guards every route registered in `app` (the console API's scope): 401 `NOT_SIGNED_IN`
 * without a live session, 403 `CROSS_ORIGIN` for another origin, 403 `ROLE_FORBIDDEN` when the
 * operator's role is not in the route's `config.roles`, 415 `JSON_REQUIRED` for a state change
 * of another body type. A route that names no roles is refused at registration, so
 * none is open by mistake.
 */
export function guardConsoleRoutes(app: FastifyInstance, db: Queryable): void {
  app.decorateRequest('operator', null);
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = route.config ?? {};
    if (!config.signIn && !config.roles)
      throw new Error(`console route ${route.method} ${route.url} must name its roles (config.roles)`);
    const roles = config.signIn ? 'anyone (sign-in)' : ['admin', ...(config.roles ?? [])].join(', ');
    route.schema = {
      ...route.schema,
      description: [route.schema?.description, `Roles: ${roles}.`].filter(Boolean).join(' '),
      ...(config.signIn ? {} : { security: [{ console_session: [] }] }),
      response: { 401: ErrorBody, 403: ErrorBody, ...(route.schema?.response as object | undefined) },
    };
  });
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.signIn) {
      requireSameOrigin(request);
      requireBodyTypeForStateChange(request);
      return;
    }
    const operator = await findSession(db, request.cookies[SESSION_COOKIE]);
    if (!operator) throw new CloudError('NOT_SIGNED_IN', 'sign in first');
    requireSameOrigin(request);
    if (!roleAllows(operator.role, config.roles ?? []))
      throw new CloudError('ROLE_FORBIDDEN', `the ${operator.role} role may not do this`);
    requireBodyTypeForStateChange(request);
    request.operator = operator;
  });
}

/** Every role: for routes any signed-in operator may call. */
export const ANY_ROLE: readonly OperatorRole[] = OPERATOR_ROLES;
