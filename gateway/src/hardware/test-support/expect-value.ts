import { expect } from 'vitest';

/** For `vi.waitFor`: generous on a loaded machine, since a test waits on events, not on time. */
export const WAIT = { timeout: 30_000, interval: 10 };

/** Passes `value` on when it is set (not undefined, null or false), for `vi.waitFor` to return. */
export function expectValue<T>(value: T | undefined | null | false, what = 'condition'): T {
  expect(value, what).toBeTruthy();
  return value as T;
}
