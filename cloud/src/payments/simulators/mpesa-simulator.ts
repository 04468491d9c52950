import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { darajaTimestamp, stkPassword } from '../mpesa.js';
import {
  newToken,
  startSimulator,
  type RunningSimulator,
  type SimulatedPayment,
  type SimulatorOptions,
} from './simulated-payments.js';

export interface MpesaSimulatorOptions extends SimulatorOptions {
  consumerKey?: string;
  consumerSecret?: string;
  shortcode?: string;
  passkey?: string;
}

/** What the simulator accepts unless told otherwise (also the cloud's development defaults); Daraja's sandbox paybill. */
export const MPESA_SIMULATOR_CREDENTIALS = {
  consumerKey: 'sim-consumer-key',
  consumerSecret: 'sim-consumer-secret',
  shortcode: '174379',
  passkey: 'sim-passkey',
};

/** A customer paying our paybill from the M-Pesa menu. */
interface PaybillPayment {
  transId: string;
  msisdn: string;
  billRefNumber: string;
  amount: string;
  /** What our validation URL answered, and whether the payment completed (confirmation sent). */
  validation: string;
  completed: boolean;
}

export interface RunningMpesaSimulator extends RunningSimulator {
  /** C2B URLs registered by the business (registerurl). */
  c2b: { validationUrl: string; confirmationUrl: string; responseType: string } | undefined;
  paybill: PaybillPayment[];
  /** A customer pays the paybill from their phone's M-Pesa menu (what Daraja's c2b simulate does). */
  payBill(msisdn: string, billRefNumber: string, amount: number): Promise<PaybillPayment>;
  /** Sends the confirmation of a completed paybill payment again. */
  replayConfirmation(transId: string): Promise<void>;
}

/** Daraja refuses callback URLs containing these words. */
const FORBIDDEN_URL_WORDS = /m-?pesa|safaricom|exec?|cmd|sql|query/i;

const badRequest = (reply: FastifyReply, what: string) =>
  reply.code(400).send({
    requestId: `${Date.now()}-sim`,
    errorCode: '400.002.02',
    errorMessage: `Bad Request - Invalid ${what}`,
  });

const receipt = (): string =>
  randomBytes(8)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'X')
    .toUpperCase()
    .slice(0, 10);

interface StkBody {
  BusinessShortCode?: string | number;
  Password?: string;
  Timestamp?: string;
  TransactionType?: string;
  Amount?: number | string;
  PartyA?: string | number;
  PartyB?: string | number;
  PhoneNumber?: string | number;
  CallBackURL?: string;
  AccountReference?: string;
  TransactionDesc?: string;
  CheckoutRequestID?: string;
}

/**
 * Safaricom Daraja on loopback: OAuth, M-Pesa Express (STK push, query, callback) and C2B
 * paybill (registerurl, validation, confirmation). It refuses what Daraja refuses: a wrong
 * password, a non-integer amount, a number that is not Kenyan mobile, an AccountReference over
 * 12 or TransactionDesc over 13 characters, callback URLs naming M-Pesa or Safaricom.
 */
export async function startMpesaSimulator(options: MpesaSimulatorOptions = {}): Promise<RunningMpesaSimulator> {
  const credentials = { ...MPESA_SIMULATOR_CREDENTIALS, ...options };
  const tokens = new Set<string>();
  const callbackUrls = new Map<string, string>();
  const merchantIds = new Map<string, string>();
  const accountRefs = new Map<string, string>();
  const paybill: PaybillPayment[] = [];
  let c2b: RunningMpesaSimulator['c2b'];

  const authorised = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (bearer && tokens.has(bearer)) return true;
    await reply.code(401).send({ requestId: '', errorCode: '404.001.03', errorMessage: 'Invalid Access Token' });
    return false;
  };
  /** Shortcode, password and timestamp, as every Lipa na M-Pesa Online call carries them. */
  const credentialsError = (body: StkBody): string | undefined => {
    if (String(body.BusinessShortCode) !== credentials.shortcode) return 'BusinessShortCode';
    if (!/^\d{14}$/.test(body.Timestamp ?? '')) return 'Timestamp';
    if (body.Password !== stkPassword(credentials.shortcode, credentials.passkey, body.Timestamp!)) return 'Password';
    return undefined;
  };

  const simulator = await startSimulator(
    {
      title: 'M-Pesa (Daraja) simulator',
      newTransactionId: receipt,
      pageExtra: `<h2>Pay bill ${credentials.shortcode} from the M-Pesa menu</h2>
<form method="post" action="/simulator/paybill"><input name="msisdn" placeholder="2547…" required>
<input name="account" placeholder="account no. (TS…)" required><input name="amount" placeholder="KES" required>
<button>pay</button></form>`,
      routes(app, book) {
        app.get<{ Querystring: { grant_type?: string } }>('/oauth/v1/generate', async (request, reply) => {
          const expected = `Basic ${Buffer.from(`${credentials.consumerKey}:${credentials.consumerSecret}`).toString('base64')}`;
          if (request.query.grant_type !== 'client_credentials' || request.headers.authorization !== expected)
            return reply.code(400).send({ errorCode: '400.008.01', errorMessage: 'Invalid Authentication passed' });
          const token = newToken();
          tokens.add(token);
          return { access_token: token, expires_in: '3599' };
        });

        app.post<{ Body: StkBody }>('/mpesa/stkpush/v1/processrequest', async (request, reply) => {
          if (!(await authorised(request, reply))) return reply;
          const body = request.body ?? {};
          const wrong =
            credentialsError(body) ??
            (!['CustomerPayBillOnline', 'CustomerBuyGoodsOnline'].includes(body.TransactionType ?? '')
              ? 'TransactionType'
              : !Number.isInteger(Number(body.Amount)) || Number(body.Amount) < 1
                ? 'Amount'
                : !/^254(7|1)\d{8}$/.test(String(body.PartyA)) || String(body.PhoneNumber) !== String(body.PartyA)
                  ? 'PhoneNumber'
                  : String(body.PartyB) !== credentials.shortcode
                    ? 'PartyB'
                    : !/^https?:\/\//.test(body.CallBackURL ?? '') || FORBIDDEN_URL_WORDS.test(body.CallBackURL ?? '')
                      ? 'CallBackURL'
                      : !body.AccountReference || body.AccountReference.length > 12
                        ? 'AccountReference'
                        : !body.TransactionDesc || body.TransactionDesc.length > 13
                          ? 'TransactionDesc'
                          : undefined);
          if (wrong) return badRequest(reply, wrong);
          if (book.faults.failRequests)
            return reply.code(500).send({ requestId: '', errorCode: '500.001.1001', errorMessage: 'System busy' });
          const checkoutRequestId = `ws_CO_${darajaTimestamp()}${randomBytes(5).toString('hex')}`;
          const merchantRequestId = `${Math.floor(Math.random() * 90_000) + 10_000}-${Date.now() % 1e8}-1`;
          book.create({
            reference: checkoutRequestId,
            msisdn: String(body.PartyA),
            amount: String(Number(body.Amount)),
            currency: 'KES',
          });
          callbackUrls.set(checkoutRequestId, body.CallBackURL!);
          merchantIds.set(checkoutRequestId, merchantRequestId);
          accountRefs.set(checkoutRequestId, body.AccountReference!);
          if (book.faults.hangAfterAccept) await book.hang();
          return {
            MerchantRequestID: merchantRequestId,
            CheckoutRequestID: checkoutRequestId,
            ResponseCode: '0',
            ResponseDescription: 'Success. Request accepted for processing',
            CustomerMessage: 'Success. Request accepted for processing',
          };
        });

        app.post<{ Body: StkBody }>('/mpesa/stkpushquery/v1/query', async (request, reply) => {
          if (!(await authorised(request, reply))) return reply;
          const body = request.body ?? {};
          const wrong = credentialsError(body);
          if (wrong) return badRequest(reply, wrong);
          book.queried(body.CheckoutRequestID ?? '');
          const payment = book.get(body.CheckoutRequestID ?? '');
          if (!payment) return badRequest(reply, 'CheckoutRequestID');
          if (payment.status === 'PENDING')
            return reply
              .code(500)
              .send({ requestId: '', errorCode: '500.001.1001', errorMessage: 'The transaction is being processed' });
          return {
            ResponseCode: '0',
            ResponseDescription: 'The service request has been accepted successsfully',
            MerchantRequestID: merchantIds.get(payment.reference),
            CheckoutRequestID: payment.reference,
            ...result(payment),
          };
        });

        app.post<{
          Body: { ShortCode?: string; ResponseType?: string; ConfirmationURL?: string; ValidationURL?: string };
        }>('/mpesa/c2b/v1/registerurl', async (request, reply) => {
          if (!(await authorised(request, reply))) return reply;
          const body = request.body ?? {};
          if (String(body.ShortCode) !== credentials.shortcode) return badRequest(reply, 'ShortCode');
          if (body.ResponseType !== 'Completed' && body.ResponseType !== 'Cancelled')
            return badRequest(reply, 'ResponseType');
          for (const [name, url] of [
            ['ConfirmationURL', body.ConfirmationURL],
            ['ValidationURL', body.ValidationURL],
          ] as const) {
            if (!url || !/^https?:\/\//.test(url) || FORBIDDEN_URL_WORDS.test(url)) return badRequest(reply, name);
          }
          c2b = {
            validationUrl: body.ValidationURL!,
            confirmationUrl: body.ConfirmationURL!,
            responseType: body.ResponseType,
          };
          return {
            OriginatorCoversationID: randomBytes(8).toString('hex'),
            ResponseCode: '0',
            ResponseDescription: 'Success',
          };
        });

        app.post<{ Body: { msisdn?: string; account?: string; amount?: string } }>(
          '/simulator/paybill',
          async (request, reply) => {
            const { msisdn = '', account = '', amount = '' } = request.body ?? {};
            if (!/^254\d{9}$/.test(msisdn) || !/^\d+$/.test(amount) || !account)
              return reply.code(400).send({ error: 'msisdn 254…, account and a whole KES amount are required' });
            const done = await payBill(msisdn, account, Number(amount));
            return request.headers.accept?.includes('text/html') ? reply.redirect('/simulator', 303) : done;
          },
        );
      },
      async sendCallback(payment) {
        const url = callbackUrls.get(payment.reference);
        if (!url) return;
        const approved = payment.status === 'SUCCESSFUL';
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            Body: {
              stkCallback: {
                MerchantRequestID: merchantIds.get(payment.reference),
                CheckoutRequestID: payment.reference,
                ResultCode: approved ? 0 : 1032,
                ResultDesc: approved ? 'The service request is processed successfully.' : 'Request cancelled by user',
                ...(approved
                  ? {
                      CallbackMetadata: {
                        Item: [
                          { Name: 'Amount', Value: Number(payment.amount) },
                          { Name: 'MpesaReceiptNumber', Value: payment.transactionId },
                          { Name: 'Balance' },
                          { Name: 'TransactionDate', Value: Number(darajaTimestamp()) },
                          { Name: 'PhoneNumber', Value: Number(payment.msisdn) },
                        ],
                      },
                    }
                  : {}),
              },
            },
          }),
        });
      },
    },
    options,
  );

  function c2bBody(payment: PaybillPayment): Record<string, string> {
    return {
      TransactionType: 'Pay Bill',
      TransID: payment.transId,
      TransTime: darajaTimestamp(),
      TransAmount: `${payment.amount}.00`,
      BusinessShortCode: credentials.shortcode,
      BillRefNumber: payment.billRefNumber,
      InvoiceNumber: '',
      OrgAccountBalance: '',
      ThirdPartyTransID: '',
      MSISDN: payment.msisdn,
      FirstName: 'M-Pesa',
      MiddleName: '',
      LastName: 'Customer',
    };
  }
  const postJson = async (url: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(8_000),
    });
    return (await response.json()) as Record<string, unknown>;
  };

  async function payBill(msisdn: string, billRefNumber: string, amount: number): Promise<PaybillPayment> {
    const payment: PaybillPayment = {
      transId: receipt(),
      msisdn,
      billRefNumber,
      amount: String(amount),
      validation: 'not registered',
      completed: false,
    };
    paybill.push(payment);
    if (!c2b) return payment;
    let accepted: boolean;
    try {
      const answer = await postJson(c2b.validationUrl, c2bBody(payment));
      payment.validation = `${String(answer['ResultCode'])} ${String(answer['ResultDesc'] ?? '')}`;
      accepted = String(answer['ResultCode']) === '0';
    } catch {
      // Validation unreachable: M-Pesa does what the registered ResponseType says.
      payment.validation = 'unreachable';
      accepted = c2b.responseType === 'Completed';
    }
    payment.completed = accepted;
    if (accepted) await replayConfirmation(payment.transId);
    return payment;
  }

  async function replayConfirmation(transId: string): Promise<void> {
    const payment = paybill.find((p) => p.transId === transId && p.completed);
    if (payment && c2b) await postJson(c2b.confirmationUrl, c2bBody(payment)).catch(() => undefined);
  }

  return {
    ...simulator,
    get c2b() {
      return c2b;
    },
    paybill,
    payBill,
    replayConfirmation,
  };
}

function result(payment: SimulatedPayment): { ResultCode: string; ResultDesc: string } {
  return payment.status === 'SUCCESSFUL'
    ? { ResultCode: '0', ResultDesc: 'The service request is processed successfully.' }
    : { ResultCode: '1032', ResultDesc: 'Request cancelled by user' };
}
