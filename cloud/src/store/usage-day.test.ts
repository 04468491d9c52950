import { describe, expect, it } from 'vitest';
import { backends, freshDb } from '../../test/backends.js';
import { usageDaySql } from './usage-day.js';

interface UsageDay {
  day: string;
  start_ms: number;
  end_ms: number;
  start_at: Date;
}

describe.each(backends())('the usage day on $name', (backend) => {
  const db = freshDb(backend);

  const usageDay = async (zone: string, at: string): Promise<UsageDay> => {
    const [row] = await db().query<UsageDay>(usageDaySql('$1', '$2::timestamptz'), [zone, at]);
    if (!row) throw new Error('no usage day');
    return { ...row, start_ms: Number(row.start_ms), end_ms: Number(row.end_ms) };
  };

  it('turns over at midnight in the configured zone, not at midnight UTC', async () => {
    // 20:59:59.999 UTC is 23:59:59.999 in Nairobi (UTC+3); a millisecond later the next day begins.
    const before = await usageDay('Africa/Nairobi', '2026-11-30T20:59:59.999Z');
    const after = await usageDay('Africa/Nairobi', '2026-11-30T21:00:00.000Z');
    expect(before).toMatchObject({
      day: '2026-11-30',
      start_ms: Date.parse('2026-11-29T21:00:00Z'),
      end_ms: Date.parse('2026-11-30T21:00:00Z'),
    });
    expect(before.start_at.getTime()).toBe(Date.parse('2026-11-29T21:00:00Z'));
    expect(after).toMatchObject({
      day: '2026-12-01',
      start_ms: Date.parse('2026-11-30T21:00:00Z'),
      end_ms: Date.parse('2026-12-01T21:00:00Z'),
    });
    // The same instant is still 30 November in UTC.
    expect((await usageDay('UTC', '2026-11-30T21:00:00.000Z')).day).toBe('2026-11-30');
  });

  it('is 23 hours long on the day clocks go forward', async () => {
    const day = await usageDay('Europe/Berlin', '2026-03-29T12:00:00Z');
    expect(day.day).toBe('2026-03-29');
    expect(day.end_ms - day.start_ms).toBe(23 * 3_600_000);
  });

  it('defaults to now', async () => {
    // Read the date on both sides: the query may run across midnight.
    const before = new Date().toISOString().slice(0, 10);
    const [row] = await db().query<UsageDay>(usageDaySql('$1'), ['UTC']);
    const after = new Date().toISOString().slice(0, 10);
    expect([before, after]).toContain(row?.day);
  });
});
