import type { FastifyReply, FastifyRequest } from 'fastify';
import { MOMO_ENVIRONMENTS, UUID_V4 } from '../mtn-momo.js';
import {
  newToken,
  startSimulator,
  type RunningSimulator,
  type SimulatedPayment,
  type SimulatorOptions,
} from './simulated-payments.js';

export interface MtnMomoSimulatorOptions extends SimulatorOptions {
  apiUser?: string;
  apiKey?: string;
  subscriptionKey?: string;
  /** How the simulator calls X-Callback-Url; MoMo uses PUT for requesttopay callbacks. */
  callbackMethod?: 'PUT' | 'POST';
  /** The environment the API user belongs to (default `sandbox`, which takes EUR only). */
  targetEnvironment?: string;
}

/** The credentials the simulator accepts unless told otherwise (also the cloud's development defaults). */
export const MTN_SIMULATOR_CREDENTIALS = {
  apiUser: 'sim-api-user',
  apiKey: 'sim-api-key',
  subscriptionKey: 'sim-subscription-key',
};

interface RequestToPayBody {
  amount?: string;
  currency?: string;
  externalId?: string;
  payer?: { partyIdType?: string; partyId?: string };
}

/** MTN MoMo Collections on loopback: token, requesttopay (202 / 409 on a reused reference), status, callback to X-Callback-Url. */
export async function startMtnMomoSimulator(options: MtnMomoSimulatorOptions = {}): Promise<RunningSimulator> {
  const credentials = { ...MTN_SIMULATOR_CREDENTIALS, ...options };
  const environment = options.targetEnvironment ?? 'sandbox';
  const tokens = new Set<string>();
  const callbackUrls = new Map<string, string>();
  const externalIds = new Map<string, string>();

  const authorised = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (request.headers['ocp-apim-subscription-key'] !== credentials.subscriptionKey) {
      await reply.code(401).send({ statusCode: 401, message: 'Access denied due to invalid subscription key.' });
      return false;
    }
    if (!bearer || !tokens.has(bearer)) {
      await reply.code(401).send({ code: 'NOT_AUTHORIZED', message: 'Authorization failed.' });
      return false;
    }
    if (request.headers['x-target-environment'] !== environment) {
      await reply
        .code(401)
        .send({ code: 'NOT_AUTHORIZED', message: 'Target environment does not match the API user.' });
      return false;
    }
    return true;
  };

  return startSimulator(
    {
      title: 'MTN MoMo simulator',
      routes(app, book) {
        app.post('/collection/token/', async (request, reply) => {
          const expected = `Basic ${Buffer.from(`${credentials.apiUser}:${credentials.apiKey}`).toString('base64')}`;
          if (
            request.headers.authorization !== expected ||
            request.headers['ocp-apim-subscription-key'] !== credentials.subscriptionKey
          ) {
            return reply.code(401).send({ error: 'login_failed', error_description: 'Access denied' });
          }
          const token = newToken();
          tokens.add(token);
          return { access_token: token, token_type: 'access_token', expires_in: 3600 };
        });
        app.post<{ Body: RequestToPayBody }>('/collection/v1_0/requesttopay', async (request, reply) => {
          if (!(await authorised(request, reply))) return reply;
          const reference = request.headers['x-reference-id'];
          const body = request.body ?? {};
          if (typeof reference !== 'string' || !UUID_V4.test(reference)) {
            return reply.code(400).send({ code: 'INVALID_REFERENCE_ID', message: 'X-Reference-Id must be a UUID v4' });
          }
          if (book.get(reference))
            return reply.code(409).send({ code: 'RESOURCE_ALREADY_EXIST', message: 'Duplicated reference id.' });
          if (!body.amount || !body.currency || body.payer?.partyIdType !== 'MSISDN' || !body.payer.partyId) {
            return reply
              .code(400)
              .send({ code: 'INVALID_REQUEST', message: 'amount, currency and payer MSISDN are required' });
          }
          if (body.currency !== MOMO_ENVIRONMENTS[environment]?.currency)
            return reply.code(400).send({ code: 'INVALID_CURRENCY', message: 'Currency not supported.' });
          if (!/^[0-9]+(\.[0-9]{1,2})?$/.test(body.amount))
            return reply.code(400).send({ code: 'INVALID_AMOUNT', message: 'Amount is not valid.' });
          if (book.faults.failRequests)
            return reply.code(500).send({ code: 'INTERNAL_PROCESSING_ERROR', message: 'An internal error occurred.' });
          book.create({ reference, msisdn: body.payer.partyId, amount: body.amount, currency: body.currency });
          const callbackUrl = request.headers['x-callback-url'];
          if (typeof callbackUrl === 'string') callbackUrls.set(reference, callbackUrl);
          externalIds.set(reference, body.externalId ?? '');
          if (book.faults.hangAfterAccept) await book.hang();
          return reply.code(202).send();
        });
        app.get<{ Params: { reference: string } }>(
          '/collection/v1_0/requesttopay/:reference',
          async (request, reply) => {
            if (!(await authorised(request, reply))) return reply;
            book.queried(request.params.reference);
            const payment = book.get(request.params.reference);
            if (!payment)
              return reply.code(404).send({ code: 'RESOURCE_NOT_FOUND', message: 'Requested resource was not found.' });
            return statusBody(payment, externalIds.get(payment.reference) ?? '');
          },
        );
      },
      async sendCallback(payment) {
        const url = callbackUrls.get(payment.reference);
        if (!url) return;
        await fetch(url, {
          method: options.callbackMethod ?? 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(statusBody(payment, externalIds.get(payment.reference) ?? '')),
        });
      },
    },
    options,
  );
}

function statusBody(payment: SimulatedPayment, externalId: string): Record<string, unknown> {
  return {
    amount: payment.amount,
    currency: payment.currency,
    ...(payment.transactionId ? { financialTransactionId: payment.transactionId } : {}),
    externalId,
    payer: { partyIdType: 'MSISDN', partyId: payment.msisdn },
    payerMessage: 'Tusafishe',
    payeeNote: 'Tusafishe',
    status: payment.status,
    ...(payment.status === 'FAILED' ? { reason: 'APPROVAL_REJECTED' } : {}),
  };
}
