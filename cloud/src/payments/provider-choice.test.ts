import { describe, expect, it } from 'vitest';
import { chooseProvider, providerCandidates } from './provider-choice.js';

describe('mobile-money provider for a phone', () => {
  it('follows the network code Africa’s Talking reports', () => {
    expect(chooseProvider('+256701234567', '64110', undefined)).toBe('mtn');
    expect(chooseProvider('+256771234567', '64101', undefined)).toBe('airtel');
    expect(chooseProvider('+254733123456', '63902', undefined)).toBe('mpesa');
  });

  it('falls back to the number range, then to the configured provider', () => {
    expect(chooseProvider('+256771234567', undefined, undefined)).toBe('mtn');
    expect(chooseProvider('+256751234567', undefined, undefined)).toBe('airtel');
    expect(chooseProvider('+254712345678', undefined, undefined)).toBe('mpesa');
    expect(chooseProvider('+254700000101', undefined, undefined)).toBe('mpesa');
    expect(chooseProvider('+254110123456', undefined, undefined)).toBe('mpesa');
    expect(chooseProvider('+254733123456', undefined, undefined)).toBe('airtel');
    expect(chooseProvider('+254101123456', undefined, undefined)).toBe('airtel');
    expect(chooseProvider('+254771234567', undefined, undefined)).toBeUndefined(); // Telkom Kenya
    expect(chooseProvider('+254771234567', undefined, 'mtn')).toBe('mtn');
  });

  it('offers every wallet the network, the number range and the fallback point to, preferred first', () => {
    expect(providerCandidates('+254712345678', '63903', 'mtn')).toEqual(['airtel', 'mpesa', 'mtn']);
    expect(providerCandidates('+254712345678', '63902', undefined)).toEqual(['mpesa']);
  });
});
