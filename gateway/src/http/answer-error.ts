import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { GatewayError } from '../errors.js';

/** `field: problem` for each validation issue, the same form MQTT errors use. */
function describeValidation(issues: readonly { instancePath: string; message?: string }[]): {
  message: string;
  fields: string[];
} {
  const fields = issues.map((issue) => issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)');
  return { message: issues.map((issue, i) => `${fields[i]}: ${issue.message ?? 'invalid'}`).join('; '), fields };
}

/**
 * The gateway's one fastify error handler: every error leaves as `{ code, message }`, a
 * `GatewayError` with the status the registry gives its code; anything unexpected is a
 * logged 500 without internals.
 */
export function answerError(error: FastifyError | GatewayError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof GatewayError)
    return reply.code(error.status).send({ code: error.code, message: error.message, ...error.details });
  if (hasZodFastifySchemaValidationErrors(error))
    return reply.code(400).send({ code: 'INVALID_REQUEST', ...describeValidation(error.validation) });
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ code: 'INTERNAL', message: 'the gateway failed to answer; see its log' });
  }
  const code = status === 429 ? 'RATE_LIMITED' : (error.code ?? 'BAD_REQUEST');
  return reply.code(status).send({ code, message: error.message });
}
