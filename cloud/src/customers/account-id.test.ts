import { describe, expect, it } from 'vitest';
import { AccountId } from '@tusafishe/protocol';
import { canonicalAccountId, newAccountId } from './account-id.js';

describe('account ids', () => {
  it('are short, unambiguous and valid on the wire', () => {
    const ids = Array.from({ length: 2000 }, newAccountId);
    for (const id of ids) {
      expect(id).toMatch(/^TS[0-9A-HJKMNP-TV-Z]{7}$/);
      expect(AccountId.safeParse(id).success).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('typed account ids', () => {
  it('read back what a customer types: case, spaces, O for 0, I/L for 1', () => {
    expect(canonicalAccountId(' ts1o2il3 ')).toBe('TS102113');
  });
});
