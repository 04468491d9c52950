import { describe, expect, it } from 'vitest';
import { normalisePhone } from './phone.js';

describe('normalisePhone', () => {
  it.each([
    ['0700000102', '+254700000102'],
    ['0700 000 102', '+254700000102'],
    ['254700000102', '+254700000102'],
    ['+254700000102', '+254700000102'],
    ['0110123456', '+254110123456'],
  ])('reads the Kenyan form %s as %s', (input, expected) => {
    expect(normalisePhone(input)).toBe(expected);
  });

  it('reads Ugandan numbers in the Ugandan region and in full international form', () => {
    expect(normalisePhone('0772123456', 'UG')).toBe('+256772123456');
    expect(normalisePhone('256772123456')).toBe('+256772123456');
    expect(normalisePhone('+256 772 123 456', 'KE')).toBe('+256772123456');
  });

  it.each(['', '12', '07000001020000', 'abc0700000102', '+254100', '0000000000', '+999700000102'])(
    'rejects %j with INVALID_PHONE',
    (input) => {
      expect(() => normalisePhone(input)).toThrowError(expect.objectContaining({ code: 'INVALID_PHONE' }));
    },
  );
});
