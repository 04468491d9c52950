import { describe, expect, it } from 'vitest';
import { formatLitres, millilitresFor, toMajorString, toMinorUnits } from './tariff.js';

describe('tariff arithmetic', () => {
  it('converts money to whole millilitres, never crediting water not paid for', () => {
    const ugx = { currency: 'UGX', priceMinor: 50, volumeMl: 20_000 };
    expect(millilitresFor(1000, ugx)).toBe(400_000);
    expect(millilitresFor(1, { currency: 'KES', priceMinor: 300, volumeMl: 20_000 })).toBe(66);
    expect(millilitresFor(9_000_000_000, ugx)).toBe(3_600_000_000_000);
  });

  it('knows each currency’s minor units', () => {
    expect(toMinorUnits(1000, 'UGX')).toBe(1000);
    expect(toMinorUnits(10, 'KES')).toBe(1000);
    expect(toMajorString(1000, 'UGX')).toBe('1000');
    expect(toMajorString(1050, 'KES')).toBe('10.50');
    expect(toMajorString(5, 'KES')).toBe('0.05');
  });

  it('shows litres the way a customer reads them', () => {
    expect(formatLitres(400_000)).toBe('400 L');
    expect(formatLitres(12_500)).toBe('12.5 L');
    expect(formatLitres(-6_000)).toBe('-6 L');
    expect(formatLitres(999)).toBe('0.9 L');
  });
});
