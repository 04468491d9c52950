import type { ProviderName } from './provider.js';

/** Africa's Talking `networkCode` (MCC+MNC) of networks whose mobile money we collect. */
const NETWORK_PROVIDERS: Record<string, ProviderName> = {
  '64110': 'mtn', // MTN Uganda
  '63510': 'mtn', // MTN Rwanda
  '62130': 'mtn', // MTN Nigeria
  '62001': 'mtn', // MTN Ghana
  '64502': 'mtn', // MTN Zambia
  '64101': 'airtel', // Airtel Uganda
  '63903': 'airtel', // Airtel Kenya
  '63514': 'airtel', // Airtel Rwanda
  '64005': 'airtel', // Airtel Tanzania
  '62120': 'airtel', // Airtel Nigeria
  '64501': 'airtel', // Airtel Zambia
};

/** Number ranges, for SMS (no network code) and numbers kept after porting is rare in these markets. */
const PREFIX_PROVIDERS: [RegExp, ProviderName][] = [
  [/^\+2567[6789]|^\+25639/, 'mtn'],
  [/^\+2567[045]|^\+25620/, 'airtel'],
  [/^\+2507[89]/, 'mtn'],
  [/^\+2507[23]/, 'airtel'],
  [/^\+2547(3|5[0-6]|8)|^\+25410[0-2]/, 'airtel'],
];

/** The provider that can collect from this phone: network code first, then number range, then the fallback. */
export function chooseProvider(
  phone: string,
  networkCode: string | undefined,
  fallback: ProviderName | undefined,
): ProviderName | undefined {
  if (networkCode && NETWORK_PROVIDERS[networkCode]) return NETWORK_PROVIDERS[networkCode];
  return PREFIX_PROVIDERS.find(([pattern]) => pattern.test(phone))?.[1] ?? fallback;
}
