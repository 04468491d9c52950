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
import { toMajorString, toMinorUnits } from './tariff.js';

export interface MtnMomoConfig {
  /** https://sandbox.momodeveloper.mtn.com, https://proxy.momoapi.mtn.com, or the local simulator. */
  baseUrl: string;
  subscriptionKey: string;
  apiUser: string;
  apiKey: string;
  /** `sandbox`, `mtnuganda`, … (no default: a production cloud must say which). */
  targetEnvironment: string;
  /** Currency of the collection account; the sandbox takes EUR only. */
  currency: string;
  /** Where MoMo PUTs/POSTs its (single, best-effort) callback for one payment. */
  callbackUrl?: (paymentId: string) => string;
  timeoutMs?: number;
}

/** MoMo's target environments: the one currency each collects in, and its country (the sandbox has none). */
export const MOMO_ENVIRONMENTS: Record<string, { currency: string; country?: string }> = {
  sandbox: { currency: 'EUR' },
  mtnuganda: { currency: 'UGX', country: 'UG' },
  mtnghana: { currency: 'GHS', country: 'GH' },
  mtnivorycoast: { currency: 'XOF', country: 'CI' },
  mtnzambia: { currency: 'ZMW', country: 'ZM' },
  mtncameroon: { currency: 'XAF', country: 'CM' },
  mtnbenin: { currency: 'XOF', country: 'BJ' },
  mtncongo: { currency: 'XAF', country: 'CG' },
  mtnswaziland: { currency: 'SZL', country: 'SZ' },
  mtnguineaconakry: { currency: 'GNF', country: 'GN' },
  mtnsouthafrica: { currency: 'ZAR', country: 'ZA' },
  mtnliberia: { currency: 'LRD', country: 'LR' },
  mtnrwanda: { currency: 'RWF', country: 'RW' },
};

/** MoMo takes a UUID version 4 as X-Reference-Id and answers 400 to anything else. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

const TokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number() });
const StatusResponse = z.object({
  status: z.string(),
  amount: z.string().optional(),
  currency: z.string().optional(),
  financialTransactionId: z.string().optional(),
});

/** MoMo statuses: PENDING (and ONGOING) still waiting; FAILED, REJECTED, TIMEOUT, EXPIRED are final refusals. */
const FINAL_FAILURES = new Set(['FAILED', 'REJECTED', 'TIMEOUT', 'EXPIRED']);

/** MTN MoMo Collections: POST /collection/token/, POST and GET /collection/v1_0/requesttopay. */
export function mtnMomoProvider(config: MtnMomoConfig): PaymentProvider {
  const base = config.baseUrl.replace(/\/$/, '');
  const timeoutMs = config.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
  const environment = MOMO_ENVIRONMENTS[config.targetEnvironment];
  if (environment && environment.currency !== config.currency)
    throw new Error(`MoMo ${config.targetEnvironment} collects in ${environment.currency}, not ${config.currency}`);
  const token = new AccessToken(async () => {
    const response = await providerFetch(
      `${base}/collection/token/`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${config.apiUser}:${config.apiKey}`).toString('base64')}`,
          'ocp-apim-subscription-key': config.subscriptionKey,
        },
      },
      timeoutMs,
      'MoMo token',
    );
    const body = parseAnswer(TokenResponse, await providerJson(response, 'MoMo token'), 'MoMo token');
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
    currency: config.currency,
    ...(environment?.country ? { country: environment.country } : {}),
    async requestToPay(request: CollectionRequest) {
      if (!UUID_V4.test(request.reference)) throw new ProviderError('refused', 'MoMo reference must be a UUID v4');
      const response = await providerFetch(
        `${base}/collection/v1_0/requesttopay`,
        {
          method: 'POST',
          headers: {
            ...(await headers()),
            'x-reference-id': request.reference,
            'content-type': 'application/json',
            ...(config.callbackUrl ? { 'x-callback-url': config.callbackUrl(request.reference) } : {}),
          },
          body: JSON.stringify({
            amount: toMajorString(request.amountMinor, request.currency),
            currency: request.currency,
            externalId: request.reference,
            payer: { partyIdType: 'MSISDN', partyId: request.phone.replace(/^\+/, '') },
            payerMessage: request.description,
            payeeNote: request.description,
          }),
        },
        timeoutMs,
        'MoMo requesttopay',
      );
      // 409: this reference already exists, i.e. an earlier attempt reached MoMo; the status query tells.
      if (response.status === 409) return {};
      await providerJson(response, 'MoMo requesttopay');
      return {};
    },
    async status({ paymentId }: PaymentReference): Promise<CollectionStatus> {
      const response = await providerFetch(
        `${base}/collection/v1_0/requesttopay/${encodeURIComponent(paymentId)}`,
        { headers: await headers() },
        timeoutMs,
        'MoMo requesttopay status',
      );
      const what = 'MoMo requesttopay status';
      const body = parseAnswer(StatusResponse, await providerJson(response, what), what);
      if (body.status !== 'SUCCESSFUL' && body.status !== 'PENDING' && body.status !== 'ONGOING') {
        if (!FINAL_FAILURES.has(body.status)) throw new ProviderError('ambiguous', `${what}: status ${body.status}`);
        return { status: 'failed' };
      }
      if (body.status !== 'SUCCESSFUL') return { status: 'pending' };
      return {
        status: 'successful',
        ...(body.financialTransactionId ? { providerTransactionId: body.financialTransactionId } : {}),
        ...(body.amount && body.currency
          ? { amountMinor: Math.round(toMinorUnits(Number(body.amount), body.currency)), currency: body.currency }
          : {}),
      };
    },
  };
}
