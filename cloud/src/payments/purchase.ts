import type { Customer } from '../customers/customers.js';
import { CloudError } from '../errors.js';
import type { PaymentService } from './payments.js';
import { formatLitres, millilitresFor, toMinorUnits } from './tariff.js';

/** Bounds on one purchase, in whole currency units as customers type them. */
export interface PurchaseLimits {
  currency: string;
  minMajor: number;
  maxMajor: number;
}

export type PurchaseResult = { ok: true; provider: string } | { ok: false; reason: 'noProvider' | 'paymentFailed' };

/** Starts a top-up from USSD or SMS and turns provider trouble into a reason the customer can read. */
export async function buyWater(
  payments: PaymentService,
  customer: Customer,
  amountMajor: number,
  options: { networkCode?: string; requestKey?: string } = {},
): Promise<PurchaseResult> {
  try {
    const { provider } = await payments.start(customer, toMinorUnits(amountMajor, payments.currency), options);
    return { ok: true, provider: provider.label };
  } catch (error) {
    if (error instanceof CloudError && error.code === 'PAYMENT_PROVIDER_UNAVAILABLE')
      return { ok: false, reason: 'noProvider' };
    if (error instanceof CloudError) return { ok: false, reason: 'paymentFailed' };
    throw error;
  }
}

/** What an amount buys at the default tariff, for the confirmation screen. */
export async function quote(payments: PaymentService, customer: Customer, amountMajor: number): Promise<string> {
  const tariff = await payments.tariffFor(customer.allowed_kiosks?.length === 1 ? customer.allowed_kiosks[0]! : null);
  return formatLitres(millilitresFor(toMinorUnits(amountMajor, tariff.currency), tariff));
}
