import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, DATABASE_FILE, listMigrations, openDatabase, type Db } from './database.js';
import { inTimeRangeSql, timeRange } from './ledger.js';
import { Store } from './store.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-ledger-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
/** A database in a new directory with the migrations before `version` only, as an older gateway left it. */
const databaseBefore = (version: number): { dir: string; old: Database.Database } => {
  const dir = tempDir();
  const old = new Database(join(dir, DATABASE_FILE));
  applyMigrations(
    old,
    listMigrations().filter((m) => m.version < version),
  );
  return { dir, old };
};

describe("the ledger's acknowledgement watermark", () => {
  const dispense = (store: Store, id: string, ml: number) =>
    store.ledger.append({
      event_id: id,
      type: 'dispense',
      account_id: 'TSF000101',
      amount_ml: -ml,
      source_id: `s-${id}`,
      occurred_at: 1,
    });

  it('moves only as far as the cloud holds every event in order, refused ones passed over', () => {
    const store = Store.open(tempDir());
    for (const [id, ml] of [
      ['e1', 100],
      ['e2', 200],
      ['e3', 400],
      ['e4', 800],
    ] as const)
      dispense(store, id, ml);
    const unacked = () => store.ledger.unackedBalanceMl('TSF000101');

    // e1 unanswered: the cloud's acknowledgement of e2 and e3 moves nothing, and they count until it does.
    expect(store.acknowledgeEvents(['e2', 'e3'])).toBe(0);
    expect(unacked()).toBe(-1500);
    store.db.prepare(`INSERT INTO sync_rejected_events VALUES ('e2', 'INVALID', 'refused', 1)`).run();
    expect(store.acknowledgeEvents(['e1', 'e3'])).toBe(3);
    expect(store.ledger.acknowledgedThrough()).toBe(3);
    // The refused one still counts here, as the cloud's balance does not count it.
    expect(unacked()).toBe(-1000);
    expect(store.ledger.unacknowledged(10).map((e) => e.event_id)).toEqual(['e4']);
    // Never back: an acknowledgement again of what it holds moves nothing.
    expect(store.acknowledgeEvents(['e1'])).toBe(0);
    expect(store.ledger.acknowledgedThrough()).toBe(3);
    store.close();
  });

  it('migrations 713–714 keep what the cloud holds: the watermark stops at the first event it lacks', () => {
    const { dir, old } = databaseBefore(713);
    const event =
      old.prepare(`INSERT INTO ledger_events (event_id, type, account_id, amount_ml, source_id, occurred_at, acked_at)
      VALUES (?, 'dispense', 'TSF000101', ?, ?, 1, ?)`);
    event.run('e1', -100, 's1', 5);
    event.run('e2', -200, 's2', null); // refused by the cloud
    event.run('e3', -400, 's3', 5);
    event.run('e4', -800, 's4', null);
    event.run('e5', -1600, 's5', 5);
    old.prepare(`INSERT INTO sync_rejected_events VALUES ('e2', 'INVALID', 'refused', 1)`).run();
    old.close();

    const store = new Store(openDatabase(dir));
    expect(store.ledger.acknowledgedThrough()).toBe(3);
    // e5 (acknowledged above the gap) is pushed again; the cloud merges it by event id.
    expect(store.ledger.unacknowledged(10).map((e) => e.event_id)).toEqual(['e4', 'e5']);
    expect(store.ledger.unackedBalanceMl('TSF000101')).toBe(-2600);
    expect(store.acknowledgeEvents(['e4', 'e5'])).toBe(2);
    expect(store.ledger.unackedBalanceMl('TSF000101')).toBe(-200);
    expect(
      store.db.prepare(`SELECT count(*) FROM pragma_table_info('ledger_events') WHERE name = 'acked_at'`).pluck().get(),
    ).toBe(0);
    // Each index is a page written at every event (714: none by event_id); (type, source_id) stays unique.
    const indexed = store.db
      .prepare<[], string>(
        `SELECT group_concat(i.name, ',') FROM pragma_index_list('ledger_events') l, pragma_index_info(l.name) i GROUP BY l.name ORDER BY 1`,
      )
      .pluck()
      .all();
    expect(indexed).toEqual(['account_id,occurred_at', 'type,source_id']);
    expect(() =>
      store.ledger.append({ event_id: 'e9', type: 'dispense', amount_ml: -1, source_id: 's5', occurred_at: 1 }),
    ).toThrow(/UNIQUE/);
    expect(() => store.db.prepare('UPDATE ledger_events SET details = NULL').run()).toThrow(/immutable/);
    store.close();
  });
});

describe('the ledger read by time (no index on time, migration 716)', () => {
  const HOUR = 3_600_000;
  const START = Date.UTC(2026, 11, 1);
  const insertAll = (db: Db, times: readonly number[], first = 0): void => {
    const insert = db.prepare(
      `INSERT INTO ledger_events (event_id, type, account_id, amount_ml, source_id, occurred_at) VALUES (?, 'dispense', 'TSF000101', -1, ?, ?)`,
    );
    db.transaction(() => {
      for (const [i, at] of times.entries()) insert.run(`e${first + i}`, `s${first + i}`, at);
    })();
  };
  const found = (db: Db, from: number, to: number): number[] =>
    db
      .prepare<[ReturnType<typeof timeRange>], number>(
        `SELECT seq FROM ledger_events NOT INDEXED WHERE ${inTimeRangeSql('ledger_events')} ORDER BY seq`,
      )
      .pluck()
      .all(timeRange(from, to));
  const expected = (db: Db, from: number, to: number): number[] =>
    db
      .prepare<[number, number], number>(
        'SELECT seq FROM ledger_events WHERE occurred_at >= ? AND occurred_at < ? ORDER BY seq',
      )
      .pluck()
      .all(from, to);
  /** A kiosk's clock: forward by up to 20 minutes an event, sometimes a step back or far ahead. */
  const clock = fc
    .array(
      fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0, max: 20 * 60_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: -30 * HOUR, max: 30 * HOUR }) },
      ),
      { maxLength: 200 },
    )
    .map((steps) => {
      let at = START;
      return steps.map((step) => (at = Math.max(1, at + step)));
    });
  const range = fc
    .tuple(fc.integer({ min: -40 * HOUR, max: 80 * HOUR }), fc.integer({ min: 0, max: 30 * HOUR }))
    .map(([offset, length]) => [START + offset, START + offset + length] as const);

  it('finds every event of a range once, whatever steps the clock made', () => {
    fc.assert(
      fc.property(clock, fc.array(range, { minLength: 1, maxLength: 5 }), (times, ranges) => {
        const db = openDatabase(tempDir());
        try {
          insertAll(db, times);
          for (const [from, to] of ranges) expect(found(db, from, to)).toEqual(expected(db, from, to));
        } finally {
          db.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('marks an hour once while the clock runs forward: a few rows a day, not a page an event', () => {
    const db = openDatabase(tempDir());
    // A busy day: 2,000 dispenses, 43 s apart.
    insertAll(
      db,
      Array.from({ length: 2000 }, (_, i) => START + i * 43_000),
    );
    expect(db.prepare('SELECT count(*) FROM ledger_hours').pluck().get()).toBe(24);
    expect(found(db, START + 5 * HOUR, START + 6 * HOUR)).toEqual(expected(db, START + 5 * HOUR, START + 6 * HOUR));
    db.close();
  });

  it('marks the runs of a ledger recorded before migration 716', () => {
    const { dir, old } = databaseBefore(716);
    const times = [START, START + 10, START + 2 * HOUR, START - 5 * HOUR, START + 2 * HOUR + 1, START + 3 * HOUR];
    insertAll(old, times);
    old.close();

    const db = openDatabase(dir);
    expect(db.prepare('SELECT seq, hour FROM ledger_hours ORDER BY seq').raw().all()).toEqual(
      [1, 3, 4, 5, 6].map((seq) => [seq, Math.floor(times[seq - 1]! / HOUR)]),
    );
    for (const [from, to] of [
      [START, START + HOUR],
      [START - 6 * HOUR, START + 3 * HOUR],
      [START + 2 * HOUR, START + 4 * HOUR],
    ] as const)
      expect(found(db, from, to)).toEqual(expected(db, from, to));
    // New events continue the marks: the last run is hour START + 3 h.
    insertAll(db, [START + 3 * HOUR + 5, START + 4 * HOUR], times.length);
    expect(db.prepare('SELECT count(*) FROM ledger_hours').pluck().get()).toBe(6);
    db.close();
  });
});
