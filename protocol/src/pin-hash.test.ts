import { describe, expect, it } from 'vitest';
import { hashPin, parsePinHash, verifyPin } from './pin-hash.js';

describe('PIN hashes', () => {
  it('verifies the right PIN and refuses a wrong one', async () => {
    const hash = await hashPin('1234');
    expect(hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    expect(hash).not.toContain('1234');
    await expect(verifyPin('1234', hash)).resolves.toBe(true);
    await expect(verifyPin('1235', hash)).resolves.toBe(false);
  });

  it('salts every hash, so equal PINs do not look alike', async () => {
    expect(await hashPin('1234')).not.toBe(await hashPin('1234'));
  });

  it('honours the cost written in the hash, so costs can be raised later', async () => {
    const hash = await hashPin('4321', { ln: 8, r: 8, p: 1 });
    expect(parsePinHash(hash).cost).toEqual({ ln: 8, r: 8, p: 1 });
    await expect(verifyPin('4321', hash)).resolves.toBe(true);
  });

  it('rejects a malformed hash with INVALID_PIN_HASH', async () => {
    await expect(verifyPin('1234', '1234')).rejects.toMatchObject({ code: 'INVALID_PIN_HASH' });
  });
});
