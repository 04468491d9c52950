import { describe, expect, it } from 'vitest';
import { dayIn, secretToken, zoneAtNoon } from './testing.js';

describe('secretToken', () => {
  it('finds a leaked PIN but not the same digits inside a timestamp, an id or a hash', () => {
    expect('{"time":1796019898766,"id":"0193a5b0-9876-7000"}').not.toMatch(secretToken('9876'));
    expect('$scrypt$ln=10,r=8,p=1$ab9876Q$x').not.toMatch(secretToken('9876'));
    expect('{"pin":"9876"}').toMatch(secretToken('9876'));
    expect('wrong pin 9876 for').toMatch(secretToken('9876'));
    expect('/ussd?token=hook-secret-in-url&x').toMatch(secretToken('hook-secret-in-url'));
  });
});

describe('zoneAtNoon', () => {
  it('names a zone where it is 12:00–12:59 at any hour of the day, so a test stays on one day', () => {
    for (let hour = 0; hour < 24; hour++) {
      const now = Date.UTC(2026, 10, 30, hour, 59, 59);
      const zone = zoneAtNoon(now);
      const local = Number(
        new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' }).format(now),
      );
      expect(local, `${zone} at ${hour}:59 UTC`).toBe(12);
      expect(dayIn(zone, now)).toBe(dayIn(zone, now + 10 * 3_600_000));
    }
  });
});
