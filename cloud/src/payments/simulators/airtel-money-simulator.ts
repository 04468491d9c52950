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

export interface RunningAirtelSimulator extends RunningSimulator {
  setCallbackUrl(url: string): void;
  /** National numbers whose payments Airtel refuses (HTTP 200, `success: false`, insufficient funds). */
  refusedMsisdns: Set<string>;
}

const refused = (message: string, responseCode: string, resultCode = 'ESB000001') => ({
  status: { code: '200', message, result_code: resultCode, response_code: responseCode, success: false },
});

/** Airtel Money collections on loopback: OAuth token, USSD-push payment, status enquiry, TS/TF callback. */
export async function startAirtelMoneySimulator(
  options: AirtelMoneySimulatorOptions = {},
): Promise<RunningAirtelSimulator> {
  const credentials = { ...AIRTEL_SIMULATOR_CREDENTIALS, ...options };
  let callbackUrl = options.callbackUrl;
  const tokens = new Set<string>();
  const refusedMsisdns = new Set<string>();

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
          // Airtel answers refusals with HTTP 200 and `success: false`: the body decides, not the status.
          if (book.get(transaction.id)) return refused('Duplicate transaction id', 'DP00800001008', 'ESB000041');
          if (refusedMsisdns.has(String(subscriber.msisdn))) return refused('Insufficient funds', 'DP00800001007');
          if (book.faults.failRequests)
            return reply.code(500).send({ status: { code: '500', message: 'Internal error', success: false } });
          book.create({
            reference: transaction.id,
            msisdn: String(subscriber.msisdn),
            amount: String(transaction.amount),
            currency: transaction.currency ?? String(request.headers['x-currency']),
          });
          if (book.faults.hangAfterAccept) await book.hang();
          return { data: { transaction: { id: transaction.id, status: 'Success.' } }, status: ok('SUCCESS') };
        });
        app.get<{ Params: { id: string } }>('/standard/v1/payments/:id', async (request, reply) => {
          if (!(await authorised(request, reply))) return reply;
          book.queried(request.params.id);
          const payment = book.get(request.params.id);
          if (!payment) return refused('Transaction not found', 'DP00800001025', 'ESB000036');
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
        // Signed over the exact bytes sent as `transaction`.
        const bytes = JSON.stringify(transaction);
        const hash = options.callbackHashKey ? airtelCallbackHash(bytes, options.callbackHashKey) : undefined;
        await fetch(callbackUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"transaction":${bytes}${hash ? `,"hash":${JSON.stringify(hash)}` : ''}}`,
        });
      },
    },
    options,
  );
  return { ...simulator, refusedMsisdns, setCallbackUrl: (url) => (callbackUrl = url) };
}
