export const PROVIDER_NAMES = ['mtn', 'airtel', 'mpesa'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface CollectionRequest {
  /** Our payment id (a UUID v4); the provider's reference where it lets us choose one. */
  reference: string;
  /** E.164. */
  phone: string;
  amountMinor: number;
  currency: string;
  description: string;
  /** Our account id, for providers that show an account reference to the payer. */
  accountId: string;
}

export interface CollectionStatus {
  status: 'pending' | 'successful' | 'failed';
  providerTransactionId?: string;
  /** What the provider says was collected, when it says (checked against the request). */
  amountMinor?: number;
  currency?: string;
}

/** The references a status query needs: ours, and the provider's own when it assigns one (M-Pesa's CheckoutRequestID). */
export interface PaymentReference {
  paymentId: string;
  providerReference: string | null;
}

/** A mobile-money collections API. Only `status` decides whether a payment is credited. */
export interface PaymentProvider {
  readonly name: ProviderName;
  /** Shown to customers: "MTN MoMo". */
  readonly label: string;
  /** Currency of the merchant account: what this provider collects in. */
  readonly currency: string;
  /** ISO country whose numbers it collects from; absent: any (a sandbox). */
  readonly country?: string;
  /** Resolves to the provider's own reference when it assigns one; throws ProviderError. */
  requestToPay(request: CollectionRequest): Promise<{ providerReference?: string }>;
  /** Throws ProviderError: `not-found` when the provider has no such payment. */
  status(reference: PaymentReference): Promise<CollectionStatus>;
}

/**
 * How a provider call went wrong. `refused`: the provider answered that it did not (and will not)
 * act on it, so nothing was collected. `not-found`: it has no such payment, now. `ambiguous`:
 * timeout, connection reset, 5xx, unreadable answer — the provider may have acted on it.
 */
export type ProviderErrorKind = 'refused' | 'not-found' | 'ambiguous';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

/** How long one provider call may take before it counts as ambiguous. */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 15_000;

/** fetch with a timeout; a failure to get any answer is `ambiguous` (the request may have arrived). */
export async function providerFetch(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  what: string,
): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new ProviderError('ambiguous', `${what}: no answer (${(error as Error).name})`, { cause: error });
  }
}

/** The kind of a non-2xx answer: 5xx, 408 and 429 may have been acted on; 404 is "not found"; other 4xx refuse. */
export function kindOfStatus(httpStatus: number): ProviderErrorKind {
  if (httpStatus >= 500 || httpStatus === 408 || httpStatus === 429) return 'ambiguous';
  return httpStatus === 404 ? 'not-found' : 'refused';
}

/** Reads a provider's JSON answer, throwing a ProviderError of the fitting kind when it is not 2xx or not JSON. */
export async function providerJson(response: Response, what: string): Promise<unknown> {
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    throw new ProviderError('ambiguous', `${what}: answer cut off`, { cause: error });
  }
  if (!response.ok)
    throw new ProviderError(
      kindOfStatus(response.status),
      `${what} failed: HTTP ${response.status} ${body.slice(0, 200)}`,
    );
  try {
    return body ? (JSON.parse(body) as unknown) : {};
  } catch (error) {
    throw new ProviderError('ambiguous', `${what}: answer is not JSON`, { cause: error });
  }
}

/** Parses a provider answer with a schema; an answer of another shape is ambiguous, not a refusal. */
export function parseAnswer<T>(
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
  value: unknown,
  what: string,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ProviderError('ambiguous', `${what}: unexpected answer ${JSON.stringify(value).slice(0, 200)}`);
  return parsed.data;
}
