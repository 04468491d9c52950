export const PROVIDER_NAMES = ['mtn', 'airtel'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface CollectionRequest {
  /** Our payment id; the provider's reference for status queries and callbacks. */
  reference: string;
  /** E.164. */
  phone: string;
  amountMinor: number;
  currency: string;
  description: string;
}

export interface CollectionStatus {
  status: 'pending' | 'successful' | 'failed';
  providerTransactionId?: string;
  /** What the provider says was collected, when it says (checked against the request). */
  amountMinor?: number;
  currency?: string;
}

/** A mobile-money collections API. Only `status` decides whether a payment is credited. */
export interface PaymentProvider {
  readonly name: ProviderName;
  /** Shown to customers: "MTN MoMo". */
  readonly label: string;
  requestToPay(request: CollectionRequest): Promise<void>;
  status(reference: string): Promise<CollectionStatus>;
}

/** Reads a provider response, failing with the provider's status and body when it is not 2xx. */
export async function providerJson(response: Response, what: string): Promise<unknown> {
  const body = await response.text();
  if (!response.ok) throw new Error(`${what} failed: HTTP ${response.status} ${body.slice(0, 200)}`);
  return body ? (JSON.parse(body) as unknown) : {};
}
