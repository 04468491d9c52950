import { createHmac, timingSafeEqual } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import * as z from 'zod';
import { AccessToken } from './access-token.js';
import {
  DEFAULT_PROVIDER_TIMEOUT_MS,
  parseAnswer,
  ProviderError,
  providerFetch,
  providerJson,
  type CollectionRequest,
  type CollectionStatus,
  type PaymentProvider,
  type PaymentReference,
} from './provider.js';
import { toMajorString } from './tariff.js';

export interface AirtelMoneyConfig {
  /** https://openapiuat.airtel.africa, https://openapi.airtel.africa, or the local simulator. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** ISO country of the merchant account, sent as X-Country (UG, KE, …). */
  country: string;
  /** Currency of the merchant account, sent as X-Currency (UGX, KES, …). */
  currency: string;
  /** Key of Airtel's authenticated callbacks: `hash` = base64 HMAC-SHA256 over the `transaction` bytes. */
  callbackHashKey?: string;
  timeoutMs?: number;
}

/** Airtel's `status` block: HTTP 200 with `success: false` is a refusal, so the body decides, not the HTTP status. */
const AirtelStatus = z.object({
  success: z.boolean(),
  code: z.string().optional(),
  message: z.string().optional(),
  result_code: z.string().optional(),
  response_code: z.string().optional(),
});
const TokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number() });
const PaymentResponse = z.object({ status: AirtelStatus });
const StatusResponse = z.object({
  status: AirtelStatus,
  data: z
    .object({
      transaction: z.object({ status: z.string(), airtel_money_id: z.string().optional(), id: z.string().optional() }),
    })
    .optional(),
});

/** Response codes that say "we do not know" (ambiguous) or "no such transaction". */
const AMBIGUOUS_CODE = 'DP00800001000';
const NOT_FOUND_CODES = new Set(['DP00800001025', 'ESB000036']);

/** Airtel Money collections: POST /auth/oauth2/token, POST /merchant/v1/payments/, GET /standard/v1/payments/{id}. */
export function airtelMoneyProvider(config: AirtelMoneyConfig): PaymentProvider {
  const base = config.baseUrl.replace(/\/$/, '');
  const timeoutMs = config.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
  const token = new AccessToken(async () => {
    const response = await providerFetch(
      `${base}/auth/oauth2/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: '*/*' },
        body: JSON.stringify({
          client_id: config.clientId,
          client_secret: config.clientSecret,
          grant_type: 'client_credentials',
        }),
      },
      timeoutMs,
      'Airtel token',
    );
    const body = parseAnswer(TokenResponse, await providerJson(response, 'Airtel token'), 'Airtel token');
    return { accessToken: body.access_token, expiresInS: body.expires_in };
  });
  const headers = async (): Promise<Record<string, string>> => ({
    authorization: `Bearer ${await token.get()}`,
    'x-country': config.country,
    'x-currency': config.currency,
    accept: '*/*',
  });

  return {
    name: 'airtel',
    label: 'Airtel Money',
    currency: config.currency,
    country: config.country,
    async requestToPay(request: CollectionRequest) {
      // Airtel wants the national number, without the country code.
      const msisdn = parsePhoneNumberFromString(request.phone)?.nationalNumber ?? request.phone.replace(/^\+/, '');
      const what = 'Airtel payment';
      const response = await providerFetch(
        `${base}/merchant/v1/payments/`,
        {
          method: 'POST',
          headers: { ...(await headers()), 'content-type': 'application/json' },
          body: JSON.stringify({
            reference: request.description,
            subscriber: { country: config.country, currency: request.currency, msisdn },
            transaction: {
              amount: Number(toMajorString(request.amountMinor, request.currency)),
              country: config.country,
              currency: request.currency,
              id: request.reference,
            },
          }),
        },
        timeoutMs,
        what,
      );
      const { status } = parseAnswer(PaymentResponse, await providerJson(response, what), what);
      if (!status.success) {
        const detail = `${what}: ${status.response_code ?? status.result_code ?? ''} ${status.message ?? ''}`;
        throw new ProviderError(status.response_code === AMBIGUOUS_CODE ? 'ambiguous' : 'refused', detail);
      }
      return {};
    },
    async status({ paymentId }: PaymentReference): Promise<CollectionStatus> {
      const what = 'Airtel payment status';
      const response = await providerFetch(
        `${base}/standard/v1/payments/${encodeURIComponent(paymentId)}`,
        { headers: await headers() },
        timeoutMs,
        what,
      );
      const body = parseAnswer(StatusResponse, await providerJson(response, what), what);
      if (!body.status.success || !body.data) {
        const code = body.status.response_code ?? body.status.result_code ?? '';
        throw new ProviderError(NOT_FOUND_CODES.has(code) ? 'not-found' : 'ambiguous', `${what}: ${code}`);
      }
      const { transaction } = body.data;
      // TS success; TF failed and TE expired are final; TIP in progress and TA ambiguous are asked again.
      if (transaction.status === 'TS')
        return {
          status: 'successful',
          ...(transaction.airtel_money_id ? { providerTransactionId: transaction.airtel_money_id } : {}),
        };
      if (transaction.status === 'TF' || transaction.status === 'TE') return { status: 'failed' };
      if (transaction.status === 'TIP' || transaction.status === 'TA') return { status: 'pending' };
      throw new ProviderError('ambiguous', `${what}: transaction status ${transaction.status}`);
    },
  };
}

/** The `hash` of an Airtel callback: base64 HMAC-SHA256 over the `transaction` value exactly as sent. */
export function airtelCallbackHash(transactionBytes: string, key: string): string {
  return createHmac('sha256', key).update(transactionBytes, 'utf8').digest('base64');
}

/**
 * Checks an Airtel callback's `hash` over the raw bytes of its `transaction` member, so what was
 * signed is what was sent: re-serialising the parsed JSON could reorder keys or respell numbers.
 */
export function verifyAirtelCallbackHash(rawBody: string, hash: string | undefined, key: string): boolean {
  const transaction = rawMember(rawBody, 'transaction');
  if (!hash || transaction === undefined) return false;
  const expected = Buffer.from(airtelCallbackHash(transaction, key));
  const offered = Buffer.from(hash);
  return expected.length === offered.length && timingSafeEqual(expected, offered);
}

/** The exact text of a top-level object member's value in a JSON document (strings and nesting respected). */
function rawMember(json: string, name: string): string | undefined {
  let depth = 0;
  let valueStart = -1;
  let expectKey = false;
  for (let i = 0; i < json.length; i += 1) {
    const c = json[i]!;
    if (c === '"') {
      const end = stringEnd(json, i);
      if (depth === 1 && expectKey && valueStart < 0 && JSON.parse(json.slice(i, end + 1)) === name) {
        valueStart = json.indexOf(':', end) + 1;
        while (/\s/.test(json[valueStart] ?? '')) valueStart += 1;
        if (json[valueStart] !== '{') return undefined;
      }
      i = end;
      expectKey = false;
    } else if (c === '{' || c === '[') {
      depth += 1;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 1 && valueStart >= 0) return json.slice(valueStart, i + 1);
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}

function stringEnd(json: string, start: number): number {
  for (let i = start + 1; i < json.length; i += 1) {
    if (json[i] === '\\') i += 1;
    else if (json[i] === '"') return i;
  }
  return json.length;
}
