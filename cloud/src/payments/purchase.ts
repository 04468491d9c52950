import type { Customer } from '../customers/customers.js';
import { CloudError } from '../errors.js';
import type { PaymentService } from './payments.js';
import type { ProviderName } from './provider.js';
import { formatLitres, millilitresFor, toMinorUnits } from './tariff.js';

/** Bounds on one purchase, in whole currency units as customers type them. */
export interface PurchaseBounds {
  minMajor: number;
  maxMajor: number;
}

/** The bounds in the currency this customer pays in. */
export interface PurchaseLimits extends PurchaseBounds {
  currency: string;
}

/** A wallet the customer may pay with, as the USSD screen names it. */
export interface Wallet {
  name: ProviderName;
  label: string;
  currency: string;
}

export type PurchaseResult = { ok: true; provider: string } | { ok: false; reason: 'noProvider' | 'paymentFailed' };

/** Wallets for this phone, preferred first, in the preferred wallet's currency (amounts are typed in it). */
export function walletsFor(payments: PaymentService, phone: string, networkCode?: string): Wallet[] {
  const all = payments.walletsFor(phone, networkCode);
  return all
    .filter((wallet) => wallet.currency === all[0]!.currency)
    .map(({ name, label, currency }) => ({ name, label, currency }));
}

/** What a customer on this phone may buy in one purchase, in their wallet's currency. */
export function purchaseLimits(
  payments: PaymentService,
  bounds: PurchaseBounds,
  phone: string,
  networkCode?: string,
): PurchaseLimits {
  return { currency: walletsFor(payments, phone, networkCode)[0]?.currency ?? payments.defaultCurrency, ...bounds };
}

/** Starts a top-up from USSD or SMS and turns provider trouble into a reason the customer can read. */
export async function buyWater(
  payments: PaymentService,
  customer: Customer,
  amountMajor: number,
  options: { networkCode?: string; requestKey?: string; provider?: ProviderName } = {},
): Promise<PurchaseResult> {
  const wallets = walletsFor(payments, customer.phone, options.networkCode);
  const wallet = options.provider ? wallets.find((w) => w.name === options.provider) : wallets[0];
  if (!wallet) return { ok: false, reason: 'noProvider' };
  try {
    const { provider } = await payments.start(customer, toMinorUnits(amountMajor, wallet.currency), {
      ...options,
      provider: wallet.name,
    });
    return { ok: true, provider: provider.label };
  } catch (error) {
    if (error instanceof CloudError && error.code === 'PAYMENT_PROVIDER_UNAVAILABLE')
      return { ok: false, reason: 'noProvider' };
    if (error instanceof CloudError) return { ok: false, reason: 'paymentFailed' };
    throw error;
  }
}

/** What an amount in `currency` buys at the customer's tariff, for the confirmation screen. */
export async function quote(
  payments: PaymentService,
  customer: Customer,
  amountMajor: number,
  currency: string,
): Promise<string> {
  const kioskId = customer.allowed_kiosks?.length === 1 ? customer.allowed_kiosks[0]! : null;
  const tariff = await payments.tariffFor(kioskId, currency);
  return tariff ? formatLitres(millilitresFor(toMinorUnits(amountMajor, currency), tariff)) : '?';
}
