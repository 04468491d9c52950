import * as z from 'zod';
import { AccessToken } from './access-token.js';
import { providerJson, type CollectionRequest, type CollectionStatus, type PaymentProvider } from './provider.js';
import { toMajorString, toMinorUnits } from './tariff.js';

export interface MtnMomoConfig {
  /** https://sandbox.momodeveloper.mtn.com, https://proxy.momoapi.mtn.com, or the local simulator. */
  baseUrl: string;
  subscriptionKey: string;
  apiUser: string;
  apiKey: string;
  /** `sandbox`, `mtnuganda`, … */
  targetEnvironment: string;
  /** Where MoMo PUTs/POSTs its (single, best-effort) callback; carries the webhook secret. */
  callbackUrl?: string;
}

const TokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number() });
const StatusResponse = z.object({
  status: z.string(),
  amount: z.string().optional(),
  currency: z.string().optional(),
  financialTransactionId: z.string().optional(),
});

/** MTN MoMo Collections: POST /collection/token/, POST and GET /collection/v1_0/requesttopay. */
export function mtnMomoProvider(config: MtnMomoConfig): PaymentProvider {
  const base = config.baseUrl.replace(/\/$/, '');
  const token = new AccessToken(async () => {
    const response = await fetch(`${base}/collection/token/`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${config.apiUser}:${config.apiKey}`).toString('base64')}`,
        'ocp-apim-subscription-key': config.subscriptionKey,
      },
    });
    const body = TokenResponse.parse(await providerJson(response, 'MoMo token'));
    return { accessToken: body.access_token, expiresInS: body.expires_in };
  });
  const headers = async (): Promise<Record<string, string>> => ({
    authorization: `Bearer ${await token.get()}`,
    'x-target-environment': config.targetEnvironment,
    'ocp-apim-subscription-key': config.subscriptionKey,
  });

  return {
    name: 'mtn',
    label: 'MTN MoMo',
    async requestToPay(request: CollectionRequest) {
      const response = await fetch(`${base}/collection/v1_0/requesttopay`, {
        method: 'POST',
        headers: {
          ...(await headers()),
          'x-reference-id': request.reference,
          'content-type': 'application/json',
          ...(config.callbackUrl ? { 'x-callback-url': config.callbackUrl } : {}),
        },
        body: JSON.stringify({
          amount: toMajorString(request.amountMinor, request.currency),
          currency: request.currency,
          externalId: request.reference,
          payer: { partyIdType: 'MSISDN', partyId: request.phone.replace(/^\+/, '') },
          payerMessage: request.description,
          payeeNote: request.description,
        }),
      });
      await providerJson(response, 'MoMo requesttopay');
    },
    async status(reference: string): Promise<CollectionStatus> {
      const response = await fetch(`${base}/collection/v1_0/requesttopay/${encodeURIComponent(reference)}`, {
        headers: await headers(),
      });
      const body = StatusResponse.parse(await providerJson(response, 'MoMo requesttopay status'));
      const status = body.status === 'SUCCESSFUL' ? 'successful' : body.status === 'PENDING' ? 'pending' : 'failed';
      return {
        status,
        ...(body.financialTransactionId ? { providerTransactionId: body.financialTransactionId } : {}),
        ...(body.amount && body.currency
          ? { amountMinor: Math.round(toMinorUnits(Number(body.amount), body.currency)), currency: body.currency }
          : {}),
      };
    },
  };
}
