import { describe, expect, it } from 'vitest';
import { localDate, localDay } from './local-day.js';

describe('kiosk local day', () => {
  it('starts at local midnight in Nairobi (UTC+3)', () => {
    const at = Date.UTC(2026, 0, 15, 22, 30); // 01:30 on the 16th in Nairobi
    expect(localDay(at, 'Africa/Nairobi')).toEqual({
      start: Date.UTC(2026, 0, 15, 21),
      end: Date.UTC(2026, 0, 16, 21),
    });
    expect(localDate(at, 'Africa/Nairobi')).toBe('2026-01-16');
    expect(localDate(at, 'UTC')).toBe('2026-01-15');
  });

  it('follows daylight saving where a zone has it', () => {
    const day = localDay(Date.UTC(2026, 2, 29, 12), 'Europe/London'); // the spring-forward day: 23 hours
    expect(day.end - day.start).toBe(23 * 3_600_000);
  });
});
