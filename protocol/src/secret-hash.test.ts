import { describe, expect, it } from 'vitest';
import { secretToken } from './testing.js';
import { hashSecret, parseSecretHash, verifySecret } from './secret-hash.js';

describe('secret hashes (PINs and credentials)', () => {
  it('verifies the right PIN and refuses a wrong one', async () => {
    const hash = await hashSecret('1234');
    expect(hash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    expect(hash).not.toMatch(secretToken('1234'));
    await expect(verifySecret('1234', hash)).resolves.toBe(true);
    await expect(verifySecret('1235', hash)).resolves.toBe(false);
  });

  it('salts every hash, so equal PINs do not look alike', async () => {
    expect(await hashSecret('1234')).not.toBe(await hashSecret('1234'));
  });

  it('honours the cost written in the hash, so costs can be raised later', async () => {
    const hash = await hashSecret('4321', { ln: 8, r: 8, p: 1 });
    expect(parseSecretHash(hash).cost).toEqual({ ln: 8, r: 8, p: 1 });
    await expect(verifySecret('4321', hash)).resolves.toBe(true);
  });

  it('rejects a malformed hash with INVALID_SECRET_HASH', async () => {
    await expect(verifySecret('1234', '1234')).rejects.toMatchObject({ code: 'INVALID_SECRET_HASH' });
  });
});
