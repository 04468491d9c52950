import type { FastifyReply, FastifyRequest } from 'fastify';
import { airtelCallbackHash } from '../airtel-money.js';
import {
  newToken,
  startSimulator,
  type RunningSimulator,
  type SimulatedPayment,
  type SimulatorOptions,
} from './simulated-payments.js';

export interface AirtelMoneySimulatorOptions extends SimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  /** Airtel sends callbacks to the URL configured for the app, not per request. */
  callbackUrl?: string;
  /** Signs callbacks with `hash` when set (Airtel's authenticated callbacks). */
  callbackHashKey?: string;
}

export const AIRTEL_SIMULATOR_CREDENTIALS = { clientId: 'sim-client-id', clientSecret: 'sim-client-secret' };

interface PaymentBody {
  reference?: string;
  subscriber?: { country?: string; currency?: string; msisdn?: string | number };
  transaction?: { amount?: number | string; country?: string; currency?: string; id?: string };
}

const STATUS_CODE: Record<SimulatedPayment['status'], string> = { PENDING: 'TIP', SUCCESSFUL: 'TS', FAILED: 'TF' };
const ok = (message: string) => ({
  code: '200',
  message,
  result_code: 'ESB000010',
  response_code: 'DP00800001006',
  success: true,
});

/** Airtel Money collections on loopback: OAuth token, USSD-push payment, status enquiry, TS/TF callback. */
export async function startAirtelMoneySimulator(
  options: AirtelMoneySimulatorOptions = {},
): Promise<RunningSimulator & { setCallbackUrl(url: string): void }> {
  const credentials = { ...AIRTEL_SIMULATOR_CREDENTIALS, ...options };
  let callbackUrl = options.callbackUrl;
  const tokens = new Set<string>();

  const authorised = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (bearer && tokens.has(bearer) && request.headers['x-country'] && request.headers['x-currency']) return true;
    await reply.code(401).send({ status: { code: '401', message: 'Unauthorized', success: false } });
    return false;
  };

  const simulator = await startSimulator(
    {
      title: 'Airtel Money simulator',
      routes(app, book) {
        app.post<{ Body: { client_id?: string; client_secret?: string; grant_type?: string } }>(
          '/auth/oauth2/token',
          async (request, reply) => {
            const body = request.body ?? {};
            if (
              body.client_id !== credentials.clientId ||
              body.client_secret !== credentials.clientSecret ||
              body.grant_type !== 'client_credentials'
            ) {
              return reply
                .code(401)
                .send({ error: 'invalid_client', error_description: 'Client authentication failed' });
            }
            const token = newToken();
            tokens.add(token);
            return { access_token: token, expires_in: '180', token_type: 'bearer' };
          },
        );
        app.post<{ Body: PaymentBody }>('/merchant/v1/payments/', async (request, reply) => {
          if (!(await authorised(request, reply))) return reply;
          const { subscriber, transaction } = request.body ?? {};
          if (!transaction?.id || !transaction.amount || !subscriber?.msisdn) {
            return reply.code(400).send({
              status: {
                code: '400',
                message: 'transaction id, amount and subscriber msisdn are required',
                success: false,
              },
            });
          }
          if (book.get(transaction.id))
            return reply.code(400).send({
              status: { code: '400', message: 'Duplicate transaction id', result_code: 'ESB000041', success: false },
            });
          book.create({
            reference: transaction.id,
            msisdn: String(subscriber.msisdn),
            amount: String(transaction.amount),
            currency: transaction.currency ?? String(request.headers['x-currency']),
          });
          return { data: { transaction: { id: transaction.id, status: 'Success.' } }, status: ok('SUCCESS') };
        });
        app.get<{ Params: { id: string } }>('/standard/v1/payments/:id', async (request, reply) => {
          if (!(await authorised(request, reply))) return reply;
          const payment = book.get(request.params.id);
          if (!payment)
            return reply.code(404).send({
              status: { code: '404', message: 'Transaction not found', result_code: 'ESB000036', success: false },
            });
          return {
            data: {
              transaction: {
                airtel_money_id: payment.transactionId ?? '',
                id: payment.reference,
                message: payment.status,
                status: STATUS_CODE[payment.status],
              },
            },
            status: ok('SUCCESS'),
          };
        });
      },
      async sendCallback(payment) {
        if (!callbackUrl) return;
        const transaction = {
          id: payment.reference,
          message: payment.status === 'SUCCESSFUL' ? 'Paid' : 'Declined',
          status_code: STATUS_CODE[payment.status],
          airtel_money_id: payment.transactionId ?? '',
        };
        const hash = options.callbackHashKey ? airtelCallbackHash(transaction, options.callbackHashKey) : undefined;
        await fetch(callbackUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ transaction, ...(hash ? { hash } : {}) }),
        });
      },
    },
    options,
  );
  return { ...simulator, setCallbackUrl: (url) => (callbackUrl = url) };
}
