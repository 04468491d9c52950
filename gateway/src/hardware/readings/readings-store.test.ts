import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, listMigrations } from '../../store/database.js';
import { ReadingsStore } from './readings-store.js';

const HOUR = 3600_000;

describe('readings time series in SQLite', () => {
  let dir: string;
  let db: Database.Database;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tusafishe-readings-'));
    db = new Database(join(dir, 'gateway.db'));
    applyMigrations(
      db,
      listMigrations().filter((m) => m.version >= 100 && m.version <= 199),
    );
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores answered readings only and returns a sensor series in time order, optionally averaged', () => {
    const store = new ReadingsStore(db, { retentionMs: 24 * HOUR, maxRows: 1000, bucketMs: 0, flushMs: 0 });
    for (let i = 0; i < 10; i++)
      store.record({ sensor: 'turbidity', status: 'ok', value: i / 10, unit: 'NTU', at: 1000 + i * 1000 });
    store.record({ sensor: 'turbidity', status: 'silent', value: null, unit: 'NTU', at: 20_000, error: 'Timed out' });
    store.record({ sensor: 'conductivity', status: 'ok', value: 400, unit: 'uS/cm', at: 5000 });
    expect(store.count()).toBe(11);
    const points = store.series({ sensor: 'turbidity', since: 3000, until: 6000, limit: 100 });
    expect(points).toEqual([
      { at: 3000, value: 0.2 },
      { at: 4000, value: 0.3 },
      { at: 5000, value: 0.4 },
      { at: 6000, value: 0.5 },
    ]);
    expect(store.series({ sensor: 'turbidity', since: 0, until: 99_000, limit: 2 }).map((p) => p.at)).toEqual([
      9000, 10_000,
    ]);
    const buckets = store.series({ sensor: 'turbidity', since: 0, until: 99_000, bucketMs: 5000, limit: 10 });
    expect(buckets.map((b) => b.at)).toEqual([0, 5000, 10_000]);
    expect(buckets[0]!.value).toBeCloseTo((0 + 0.1 + 0.2 + 0.3) / 4);
  });

  it('keeps retention bounded by age and by row count', () => {
    const store = new ReadingsStore(db, { retentionMs: HOUR, maxRows: 100, bucketMs: 0, flushMs: 0 });
    const now = 10 * HOUR;
    for (let i = 0; i < 150; i++)
      store.record({ sensor: 'tank_level', status: 'ok', value: i, unit: '%', at: now - 2 * HOUR + i * 60_000 });
    expect(store.prune(now)).toBe(60); // the rows from 2 h to 1 h ago; 90 left, under the cap
    expect(store.count()).toBe(90);
    for (let i = 0; i < 30; i++) store.record({ sensor: 'tank_level', status: 'ok', value: i, unit: '%', at: now + i });
    store.prune(now);
    expect(store.count()).toBe(100);
    // 60 rows went by age, then the 20 oldest by the cap: the first batch now starts at its 80th row
    const oldest = store.series({ sensor: 'tank_level', since: 0, until: now + HOUR, limit: 1000 })[0];
    expect(oldest).toEqual({ at: now - 2 * HOUR + 80 * 60_000, value: 80 });
    // Every row past the window: all go.
    expect(store.prune(now + 3 * HOUR)).toBe(100);
    expect(store.count()).toBe(0);
  });

  it('downsamples: one row per sensor per bucket (average, min, max, count), written when the bucket closes', () => {
    const store = new ReadingsStore(db, { retentionMs: 24 * HOUR, maxRows: 1000, bucketMs: 60_000, flushMs: 0 });
    const start = 10 * HOUR;
    // Two sensors polled together every 5 s for 2.5 minutes: 30 answers each.
    for (let i = 0; i < 30; i++) {
      const at = start + i * 5000 + 7;
      store.record({ sensor: 'turbidity', status: 'ok', value: i, unit: 'NTU', at });
      store.record({ sensor: 'tank_level', status: 'ok', value: 50, unit: '%', at: at + 3 });
    }
    // Minutes 0 and 1 are closed; minute 2 (6 answers each) is still open, in memory.
    expect(store.count()).toBe(4);
    const rows = db
      .prepare('SELECT sensor, at, value, min_value, max_value, samples FROM hardware_readings ORDER BY sensor, at')
      .all();
    expect(rows).toEqual([
      { sensor: 'tank_level', at: start, value: 50, min_value: 50, max_value: 50, samples: 12 },
      { sensor: 'tank_level', at: start + 60_000, value: 50, min_value: 50, max_value: 50, samples: 12 },
      { sensor: 'turbidity', at: start, value: 5.5, min_value: 0, max_value: 11, samples: 12 },
      { sensor: 'turbidity', at: start + 60_000, value: 17.5, min_value: 12, max_value: 23, samples: 12 },
    ]);
    store.close();
    expect(store.count()).toBe(6);
    // A wider bucket weighs each stored row by the answers it summarises: the mean of 0 … 29.
    const [whole] = store.series({ sensor: 'turbidity', since: 0, until: start + HOUR, bucketMs: HOUR, limit: 10 });
    expect(whole!.value).toBeCloseTo(14.5);
  });

  it('writes finished buckets together once the oldest is flushMs old, and before a series is read', () => {
    const store = new ReadingsStore(db, {
      retentionMs: 24 * HOUR,
      maxRows: 1000,
      bucketMs: 60_000,
      flushMs: 15 * 60_000,
    });
    const rows = () => (db.prepare('SELECT count(*) AS n FROM hardware_readings').get() as { n: number }).n;
    const start = 10 * HOUR;
    const commits: number[] = [];
    // Four sensors every 5 s for 20 minutes.
    for (let i = 0; i < 240; i++) {
      const at = start + i * 5000;
      for (const sensor of ['tank_level', 'turbidity', 'pressure', 'chlorine'])
        store.record({ sensor, status: 'ok', value: i, unit: 'x', at });
      commits.push(rows());
    }
    // Nothing stored for the first 15 minutes; then the 15 finished minutes of 4 sensors at once.
    expect(commits.slice(0, 15 * 12)).toEqual(Array(15 * 12).fill(0));
    expect(new Set(commits)).toEqual(new Set([0, 60]));
    // A graph shows every finished bucket: reading the series writes them first.
    expect(store.series({ sensor: 'pressure', since: 0, until: start + HOUR, limit: 100 })).toHaveLength(19);
    expect(rows()).toBe(76);
    store.close();
    expect(rows()).toBe(80);
  });

  it('ignores silent answers and keeps every answer when the bucket is 0', () => {
    const store = new ReadingsStore(db, { retentionMs: 24 * HOUR, maxRows: 1000, bucketMs: 60_000, flushMs: 0 });
    store.record({ sensor: 'turbidity', status: 'silent', value: null, unit: 'NTU', at: 1000, error: 'Timed out' });
    store.close();
    expect(store.count()).toBe(0);
    const raw = new ReadingsStore(db, { retentionMs: 24 * HOUR, maxRows: 1000, bucketMs: 0, flushMs: 0 });
    raw.record({ sensor: 'turbidity', status: 'ok', value: 0.4, unit: 'NTU', at: 1000 });
    expect(store.count()).toBe(1);
  });
});
