import * as z from 'zod';
import { AccessToken } from './access-token.js';
import {
  DEFAULT_PROVIDER_TIMEOUT_MS,
  kindOfStatus,
  parseAnswer,
  ProviderError,
  providerFetch,
  type CollectionRequest,
  type CollectionStatus,
  type PaymentProvider,
  type PaymentReference,
} from './provider.js';

export interface MpesaConfig {
  /** https://sandbox.safaricom.co.ke, https://api.safaricom.co.ke, or the local simulator. */
  baseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  /** Paybill number (BusinessShortCode and PartyB). */
  shortcode: string;
  /** Lipa na M-Pesa Online passkey: the password is base64(shortcode + passkey + timestamp). */
  passkey: string;
  /** Where Daraja posts the STK result for one payment. */
  callbackUrl: (paymentId: string) => string;
  timeoutMs?: number;
}

const TokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number() });
const PushResponse = z.object({
  MerchantRequestID: z.string(),
  CheckoutRequestID: z.string().min(1),
  ResponseCode: z.string(),
  ResponseDescription: z.string().optional(),
});
const QueryResponse = z.object({
  ResponseCode: z.string(),
  ResultCode: z.coerce.string(),
  ResultDesc: z.string().optional(),
  CheckoutRequestID: z.string().optional(),
});
const DarajaError = z.object({ errorCode: z.string(), errorMessage: z.string() });

export interface MpesaProvider extends PaymentProvider {
  /** Registers our C2B validation and confirmation URLs for the paybill (POST /mpesa/c2b/v1/registerurl). */
  registerC2bUrls(urls: { validationUrl: string; confirmationUrl: string }): Promise<void>;
}

/** Daraja's timestamp: YYYYMMDDHHmmss in East Africa Time (UTC+3, no daylight saving). */
export function darajaTimestamp(now = Date.now()): string {
  return new Date(now + 3 * 3_600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The Lipa na M-Pesa Online password: base64 of shortcode + passkey + timestamp. */
export function stkPassword(shortcode: string, passkey: string, timestamp: string): string {
  return Buffer.from(`${shortcode}${passkey}${timestamp}`).toString('base64');
}

/**
 * Safaricom Daraja M-Pesa Express (STK push): GET /oauth/v1/generate, POST
 * /mpesa/stkpush/v1/processrequest, POST /mpesa/stkpushquery/v1/query. Daraja assigns the
 * reference (CheckoutRequestID); the per-payment callback URL carries ours, so a callback finds
 * its payment even when the answer to our request was lost.
 */
export function mpesaProvider(config: MpesaConfig): MpesaProvider {
  const base = config.baseUrl.replace(/\/$/, '');
  const timeoutMs = config.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
  const token = new AccessToken(async () => {
    const basic = Buffer.from(`${config.consumerKey}:${config.consumerSecret}`).toString('base64');
    const response = await providerFetch(
      `${base}/oauth/v1/generate?grant_type=client_credentials`,
      { headers: { authorization: `Basic ${basic}` } },
      timeoutMs,
      'Daraja token',
    );
    const body = parseAnswer(TokenResponse, await darajaJson(response, 'Daraja token'), 'Daraja token');
    return { accessToken: body.access_token, expiresInS: body.expires_in };
  });
  const post = async (path: string, body: Record<string, unknown>, what: string): Promise<Response> =>
    providerFetch(
      `${base}${path}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${await token.get()}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      timeoutMs,
      what,
    );
  const credentials = (): Record<string, string> => {
    const timestamp = darajaTimestamp();
    return {
      BusinessShortCode: config.shortcode,
      Password: stkPassword(config.shortcode, config.passkey, timestamp),
      Timestamp: timestamp,
    };
  };

  return {
    name: 'mpesa',
    label: 'M-Pesa',
    currency: 'KES',
    country: 'KE',
    async requestToPay(request: CollectionRequest) {
      // M-Pesa takes whole shillings only.
      if (request.currency !== 'KES' || request.amountMinor % 100 !== 0)
        throw new ProviderError('refused', 'M-Pesa collects whole Kenyan shillings only');
      const what = 'Daraja processrequest';
      const msisdn = request.phone.replace(/^\+/, '');
      const response = await post(
        '/mpesa/stkpush/v1/processrequest',
        {
          ...credentials(),
          TransactionType: 'CustomerPayBillOnline',
          Amount: request.amountMinor / 100,
          PartyA: msisdn,
          PartyB: config.shortcode,
          PhoneNumber: msisdn,
          CallBackURL: config.callbackUrl(request.reference),
          AccountReference: request.accountId.slice(0, 12),
          TransactionDesc: 'Water',
        },
        what,
      );
      const body = parseAnswer(PushResponse, await darajaJson(response, what), what);
      if (body.ResponseCode !== '0') throw new ProviderError('refused', `${what}: ${body.ResponseDescription ?? ''}`);
      return { providerReference: body.CheckoutRequestID };
    },
    async status({ providerReference }: PaymentReference): Promise<CollectionStatus> {
      // Without Daraja's reference (our request's answer was lost and no callback came) there is nothing to ask.
      if (!providerReference) throw new ProviderError('not-found', 'no CheckoutRequestID known for this payment');
      const what = 'Daraja stkpushquery';
      const response = await post(
        '/mpesa/stkpushquery/v1/query',
        { ...credentials(), CheckoutRequestID: providerReference },
        what,
      );
      let answer: unknown;
      try {
        answer = await darajaJson(response, what);
      } catch (error) {
        // Daraja answers 500 "The transaction is being processed" while the customer has the prompt.
        if (error instanceof ProviderError && /being processed/i.test(error.message)) return { status: 'pending' };
        throw error;
      }
      const body = parseAnswer(QueryResponse, answer, what);
      // ResultCode 0 is success; any other (1032 cancelled, 1037 unreachable, 1 insufficient funds, 2001 wrong PIN) is final.
      return { status: body.ResultCode === '0' ? 'successful' : 'failed' };
    },
    async registerC2bUrls({ validationUrl, confirmationUrl }) {
      const what = 'Daraja registerurl';
      const response = await post(
        '/mpesa/c2b/v1/registerurl',
        {
          ShortCode: config.shortcode,
          // If our validation URL cannot be reached, M-Pesa cancels: no customer pays into an unchecked account.
          ResponseType: 'Cancelled',
          ConfirmationURL: confirmationUrl,
          ValidationURL: validationUrl,
        },
        what,
      );
      await darajaJson(response, what);
    },
  };
}

/** Reads a Daraja answer; its errors are `{requestId, errorCode, errorMessage}` with an HTTP status. */
async function darajaJson(response: Response, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new ProviderError('ambiguous', `${what}: answer cut off`, { cause: error });
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch (error) {
    if (response.ok) throw new ProviderError('ambiguous', `${what}: answer is not JSON`, { cause: error });
    body = {};
  }
  if (response.ok) return body;
  const error = DarajaError.safeParse(body);
  const message = error.success ? `${error.data.errorCode} ${error.data.errorMessage}` : text.slice(0, 200);
  const kind = /invalid checkoutrequestid/i.test(message) ? 'not-found' : kindOfStatus(response.status);
  throw new ProviderError(kind, `${what} failed: HTTP ${response.status} ${message}`);
}
