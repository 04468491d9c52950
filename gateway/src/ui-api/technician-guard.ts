import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from 'better-sqlite3';
import type { Technician } from './technician-accounts.js';
import { findSession, SESSION_COOKIE } from './technician-sessions.js';
import { GatewayError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    technician: Technician | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Body types an HTML form on another site cannot send without CORS. */
export type StateChangeBody = 'application/json' | 'application/octet-stream';

/**
 * Cross-site request forgery: the cookie is SameSite=Strict, and every state change must
 * also be a JSON request (or a raw upload where a route says so).
 */
export function requireJsonForStateChange(request: FastifyRequest, body: StateChangeBody = 'application/json'): void {
  if (SAFE_METHODS.has(request.method)) return;
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== body) throw new GatewayError('JSON_REQUIRED', body);
}

/** A websocket opened from another origin must not ride on the technician's cookie. */
function requireSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (!URL.canParse(origin) || new URL(origin).host !== request.headers.host) {
    throw new GatewayError('CROSS_ORIGIN');
  }
}

/** onRequest hook for every route that reads customer data or changes state. */
export function technicianGuard(db: Database, body?: StateChangeBody) {
  return async function requireTechnician(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const technician = findSession(db, request.cookies[SESSION_COOKIE]);
    if (!technician) throw new GatewayError('NOT_SIGNED_IN');
    requireSameOrigin(request);
    requireJsonForStateChange(request, body);
    request.technician = technician;
  };
}
