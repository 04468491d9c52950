import type { ProviderName } from './provider.js';

/** Africa's Talking `networkCode` (MCC+MNC) of networks whose mobile money we collect. */
const NETWORK_PROVIDERS: Record<string, ProviderName> = {
  '64110': 'mtn', // MTN Uganda
  '63510': 'mtn', // MTN Rwanda
  '62130': 'mtn', // MTN Nigeria
  '62001': 'mtn', // MTN Ghana
  '64502': 'mtn', // MTN Zambia
  '63902': 'mpesa', // Safaricom Kenya
  '64101': 'airtel', // Airtel Uganda
  '63903': 'airtel', // Airtel Kenya
  '63514': 'airtel', // Airtel Rwanda
  '64005': 'airtel', // Airtel Tanzania
  '62120': 'airtel', // Airtel Nigeria
  '64501': 'airtel', // Airtel Zambia
};

/** Number ranges, for SMS (no network code) and for a second wallet on the USSD confirm screen. */
const PREFIX_PROVIDERS: [RegExp, ProviderName][] = [
  [/^\+2567[6789]|^\+25639/, 'mtn'],
  [/^\+2567[045]|^\+25620/, 'airtel'],
  [/^\+2507[89]/, 'mtn'],
  [/^\+2507[23]/, 'airtel'],
  // Safaricom: 070x-072x, 0740-0743, 0745, 0746, 0748, 0757-0759, 0768, 0769, 079x, 0110-0115.
  [/^\+2547([012]\d|4[0-3568]|5[7-9]|6[89]|9\d)|^\+25411[0-5]/, 'mpesa'],
  // Airtel Kenya: 073x, 0750-0756, 0762, 078x, 0100-0102.
  [/^\+2547(3\d|5[0-6]|62|8\d)|^\+25410[0-2]/, 'airtel'],
];

/**
 * Every provider that may collect from this phone, preferred first: the network's own (from
 * Africa's Talking's network code), then the number range's, then the fallback.
 */
export function providerCandidates(
  phone: string,
  networkCode: string | undefined,
  fallback: ProviderName | undefined,
): ProviderName[] {
  const candidates = [
    networkCode ? NETWORK_PROVIDERS[networkCode] : undefined,
    PREFIX_PROVIDERS.find(([pattern]) => pattern.test(phone))?.[1],
    fallback,
  ];
  return [...new Set(candidates.filter((name): name is ProviderName => name !== undefined))];
}

/** The preferred provider for this phone, if any. */
export function chooseProvider(
  phone: string,
  networkCode: string | undefined,
  fallback: ProviderName | undefined,
): ProviderName | undefined {
  return providerCandidates(phone, networkCode, fallback)[0];
}
