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
    const store = new ReadingsStore(db, { retentionMs: 24 * HOUR, maxRows: 1000 });
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
    const store = new ReadingsStore(db, { retentionMs: HOUR, maxRows: 100 });
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
  });
});
