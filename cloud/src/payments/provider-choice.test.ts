import { describe, expect, it } from 'vitest';
import { chooseProvider } from './provider-choice.js';

describe('mobile-money provider for a phone', () => {
  it('follows the network code Africa’s Talking reports', () => {
    expect(chooseProvider('+256701234567', '64110', undefined)).toBe('mtn');
    expect(chooseProvider('+256771234567', '64101', undefined)).toBe('airtel');
  });

  it('falls back to the number range, then to the configured provider', () => {
    expect(chooseProvider('+256771234567', undefined, undefined)).toBe('mtn');
    expect(chooseProvider('+256751234567', undefined, undefined)).toBe('airtel');
    expect(chooseProvider('+254733123456', '63902', undefined)).toBe('airtel');
    expect(chooseProvider('+254712345678', '63902', undefined)).toBeUndefined();
    expect(chooseProvider('+254712345678', undefined, 'mtn')).toBe('mtn');
  });
});
