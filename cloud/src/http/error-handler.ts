import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CloudError, type CloudErrorCode } from '../errors.js';

const STATUS: Record<CloudErrorCode, number> = {
  INVALID_CONFIG: 400,
  INVALID_AMOUNT: 400,
  UNKNOWN_ACCOUNT: 404,
  ALREADY_REGISTERED: 409,
  ACCOUNT_EXISTS: 409,
  KIOSK_EXISTS: 409,
  PAYMENT_PROVIDER_UNAVAILABLE: 503,
  PAYMENT_REQUEST_FAILED: 502,
  // Operator commands only; never raised by a request.
  BACKUP_MISMATCH: 400,
  BACKUP_FAILED: 500,
  RESTORE_WOULD_REPLACE: 409,
  INVALID_RANGE: 400,
  UNKNOWN_KIOSK: 404,
  UNKNOWN_ALERT: 404,
  UNKNOWN_ROLLOUT: 404,
  UNKNOWN_FIRMWARE: 404,
  INVALID_FIRMWARE: 400,
  FIRMWARE_CONFLICT: 409,
  NOT_SIGNED_IN: 401,
  INVALID_CREDENTIALS: 401,
  OPERATOR_LOCKED: 423,
  ROLE_FORBIDDEN: 403,
  CROSS_ORIGIN: 403,
  JSON_REQUIRED: 415,
  WEAK_PASSWORD: 400,
  USERNAME_TAKEN: 409,
  UNKNOWN_OPERATOR: 404,
  // Not 401: the operator's session is fine, only the password they typed is not.
  WRONG_PASSWORD: 403,
  OWN_ACCOUNT: 409,
  UNKNOWN_EVENT: 404,
  ALREADY_REVERSED: 409,
  CORRECTION_OVER_CAP: 403,
  WRONG_CODE: 400,
  INVALID_CSV: 400,
};

/** Typed errors become `{code, message}` with a fitting status; anything else is a logged 500 without internals. */
export function errorHandler(
  error: FastifyError | CloudError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof CloudError)
    return reply.code(STATUS[error.code]).send({ code: error.code, message: error.message });
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
  }
  return reply.code(status).send({ code: error.code ?? 'BAD_REQUEST', message: error.message });
}
