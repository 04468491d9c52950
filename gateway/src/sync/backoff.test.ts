import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('backoff', () => {
  it('doubles up to the cap with jitter in the upper half, and resets', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect([low.fail(), low.fail(), low.fail(), low.fail(), low.fail()]).toEqual([50, 100, 200, 400, 500]);
    const high = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect([high.fail(), high.fail(), high.fail(), high.fail(), high.fail()]).toEqual([100, 200, 400, 800, 1000]);
    high.reset();
    expect(high.fail()).toBe(100);
  });
});
