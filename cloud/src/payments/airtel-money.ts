import { createHmac, timingSafeEqual } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import * as z from 'zod';
import { AccessToken } from './access-token.js';
import { providerJson, type CollectionRequest, type CollectionStatus, type PaymentProvider } from './provider.js';
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
  /** When set, callbacks must carry `hash` = base64 HMAC-SHA256 of the JSON `transaction` object with this key. */
  callbackHashKey?: string;
}

const TokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number() });
const StatusResponse = z.object({
  data: z.object({ transaction: z.object({ status: z.string(), airtel_money_id: z.string().optional() }) }),
});

/** Airtel Money collections: POST /auth/oauth2/token, POST /merchant/v1/payments/, GET /standard/v1/payments/{id}. */
export function airtelMoneyProvider(config: AirtelMoneyConfig): PaymentProvider {
  const base = config.baseUrl.replace(/\/$/, '');
  const token = new AccessToken(async () => {
    const response = await fetch(`${base}/auth/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: '*/*' },
      body: JSON.stringify({
        client_id: config.clientId,
        client_secret: config.clientSecret,
        grant_type: 'client_credentials',
      }),
    });
    const body = TokenResponse.parse(await providerJson(response, 'Airtel token'));
    return { accessToken: body.access_token, expiresInS: body.expires_in };
  });
  const headers = async (currency: string): Promise<Record<string, string>> => ({
    authorization: `Bearer ${await token.get()}`,
    'x-country': config.country,
    'x-currency': currency,
    accept: '*/*',
  });

  return {
    name: 'airtel',
    label: 'Airtel Money',
    async requestToPay(request: CollectionRequest) {
      // Airtel wants the national number, without the country code.
      const msisdn = parsePhoneNumberFromString(request.phone)?.nationalNumber ?? request.phone.replace(/^\+/, '');
      const response = await fetch(`${base}/merchant/v1/payments/`, {
        method: 'POST',
        headers: { ...(await headers(request.currency)), 'content-type': 'application/json' },
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
      });
      await providerJson(response, 'Airtel payment');
    },
    async status(reference: string): Promise<CollectionStatus> {
      const response = await fetch(`${base}/standard/v1/payments/${encodeURIComponent(reference)}`, {
        headers: await headers(config.currency),
      });
      const { transaction } = StatusResponse.parse(await providerJson(response, 'Airtel payment status')).data;
      // TS success, TF failed, TE expired; TIP/TA still in progress.
      const status =
        transaction.status === 'TS'
          ? 'successful'
          : transaction.status === 'TF' || transaction.status === 'TE'
            ? 'failed'
            : 'pending';
      return { status, ...(transaction.airtel_money_id ? { providerTransactionId: transaction.airtel_money_id } : {}) };
    },
  };
}

/** The `hash` Airtel's authenticated callbacks carry. */
export function airtelCallbackHash(transaction: unknown, key: string): string {
  return createHmac('sha256', key).update(JSON.stringify(transaction)).digest('base64');
}

export function verifyAirtelCallbackHash(transaction: unknown, hash: string | undefined, key: string): boolean {
  if (!hash) return false;
  const expected = Buffer.from(airtelCallbackHash(transaction, key));
  const offered = Buffer.from(hash);
  return expected.length === offered.length && timingSafeEqual(expected, offered);
}
