/**
 * A water price: `priceMinor` minor currency units buy `volumeMl` millilitres
 * (e.g. UGX 50 per 20 L = { currency: 'UGX', priceMinor: 50, volumeMl: 20_000 }).
 */
export interface Tariff {
  currency: string;
  priceMinor: number;
  volumeMl: number;
}

/** Millilitres `amountMinor` buys, rounded down so the customer is never credited water not paid for. */
export function millilitresFor(amountMinor: number, tariff: Tariff): number {
  return Number((BigInt(amountMinor) * BigInt(tariff.volumeMl)) / BigInt(tariff.priceMinor));
}

/** Digits after the decimal point of a currency (UGX 0, KES 2), from the runtime's ISO 4217 data. */
function currencyExponent(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** What a customer types (whole currency units) to minor units. */
export function toMinorUnits(major: number, currency: string): number {
  return major * 10 ** currencyExponent(currency);
}

/** Minor units as the decimal string payment APIs take ("1000", "12.50"). */
export function toMajorString(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  if (exponent === 0) return String(minor);
  const text = String(minor).padStart(exponent + 1, '0');
  return `${text.slice(0, -exponent)}.${text.slice(-exponent)}`;
}

/** Litres for a customer's screen: "12.5 L". */
export function formatLitres(ml: number): string {
  const litres = Math.trunc(ml / 100) / 10;
  return `${litres.toFixed(1).replace(/\.0$/, '')} L`;
}
