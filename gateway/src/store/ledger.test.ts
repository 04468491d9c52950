import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, DATABASE_FILE, listMigrations, openDatabase } from './database.js';
import { Store } from './store.js';

describe("the ledger's acknowledgement watermark", () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-ledger-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

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
    const dir = tempDir();
    const old = new Database(join(dir, DATABASE_FILE));
    applyMigrations(
      old,
      listMigrations().filter((m) => m.version < 713),
    );
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
    expect(indexed).toEqual(['account_id,occurred_at', 'occurred_at,seq', 'type,source_id']);
    expect(() =>
      store.ledger.append({ event_id: 'e9', type: 'dispense', amount_ml: -1, source_id: 's5', occurred_at: 1 }),
    ).toThrow(/UNIQUE/);
    expect(() => store.db.prepare('UPDATE ledger_events SET details = NULL').run()).toThrow(/immutable/);
    store.close();
  });
});
