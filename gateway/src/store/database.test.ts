import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { applyMigrations, DATABASE_FILE, listMigrations, openDatabase, PAGE_SIZE } from './database.js';
import { pino } from 'pino';
import { DispenseFlow } from '../dispense/dispense-flow.js';
import { Interlocks } from '../dispense/interlocks.js';
import { GatewayEvents } from '../events.js';
import { resolveSettings } from '../settings.js';
import { Store } from './store.js';

describe('gateway database', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-db-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('runs in WAL mode with synchronous=FULL, so an acknowledged commit survives a power cut', async () => {
    const db = openDatabase(await tempDir());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    // 2 = FULL
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.close();
  });

  it('writes 1 KB pages and checkpoints at ~16 MB of WAL (SD-card wear)', async () => {
    const db = openDatabase(await tempDir());
    expect(PAGE_SIZE).toBe(1024);
    expect(db.pragma('page_size', { simple: true })).toBe(1024);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(16_000);
    db.close();
  });

  it('rebuilds a database of 4 KB pages with 1 KB pages once, keeping every row', async () => {
    const dir = await tempDir();
    const old = new Database(join(dir, DATABASE_FILE));
    old.pragma('journal_mode = WAL');
    applyMigrations(old, listMigrations());
    old
      .prepare(`INSERT INTO ledger_events (event_id, type, amount_ml, occurred_at) VALUES ('e1', 'topup', 5, 1)`)
      .run();
    expect(old.pragma('page_size', { simple: true })).toBe(4096);
    old.close();

    const db = openDatabase(dir);
    expect(db.pragma('page_size', { simple: true })).toBe(1024);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT event_id, amount_ml FROM ledger_events').all()).toEqual([
      { event_id: 'e1', amount_ml: 5 },
    ]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('keeps 4 KB pages and opens as before while another connection holds the file', async () => {
    const dir = await tempDir();
    const other = new Database(join(dir, DATABASE_FILE));
    other.pragma('journal_mode = WAL');
    other.exec('CREATE TABLE held (x INTEGER)');
    const db = openDatabase(dir);
    expect(db.pragma('page_size', { simple: true })).toBe(4096);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.prepare(`INSERT INTO ledger_events (event_id, type, amount_ml, occurred_at) VALUES ('e1', 'topup', 5, 1)`).run();
    other.close();
    db.close();
    const again = openDatabase(dir);
    expect(again.pragma('page_size', { simple: true })).toBe(1024);
    expect(again.prepare('SELECT count(*) FROM ledger_events').pluck().get()).toBe(1);
    again.close();
  });

  it('applies numbered migrations once, in numeric order, and records them', async () => {
    const dir = await tempDir();
    const first = openDatabase(dir);
    const versions = first.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(versions).toEqual(listMigrations().map((m) => m.version));
    first.close();
    const again = openDatabase(dir);
    expect(applyMigrations(again, listMigrations())).toEqual([]);
    again.close();
  });

  it('rolls back every migration of a start when one fails', async () => {
    const dir = await tempDir();
    const migrations = join(dir, 'migrations');
    await mkdir(migrations);
    await writeFile(join(migrations, '001-good.sql'), 'CREATE TABLE a (x INTEGER);');
    await writeFile(join(migrations, '100-bad.sql'), 'CREATE TABLE nope (;');
    expect(() => openDatabase(join(dir, 'data'), migrations)).toThrowError(
      expect.objectContaining({ code: 'MIGRATION_FAILED' }),
    );
    const db = new Database(join(dir, 'data', DATABASE_FILE));
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'a'`).all()).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(0);
    db.close();
  });

  it('refuses to change or delete a ledger event', async () => {
    const db = openDatabase(await tempDir());
    db.prepare(`INSERT INTO ledger_events (event_id, type, amount_ml, occurred_at) VALUES ('e1', 'topup', 5, 1)`).run();
    expect(() => db.prepare(`UPDATE ledger_events SET amount_ml = 6`).run()).toThrow(/immutable/);
    expect(() => db.prepare(`DELETE FROM ledger_events`).run()).toThrow(/immutable/);
    db.close();
  });

  it('keeps the open holds, settled sessions, stored decisions and ledger of a database made before migrations 710–712', async () => {
    const dir = await tempDir();
    const old = new Database(join(dir, DATABASE_FILE));
    applyMigrations(
      old,
      listMigrations().filter((m) => m.version < 710),
    );
    const now = Date.now();
    old.prepare(`INSERT INTO auth_decisions VALUES ('r1', 'D1', '{"request_id":"r1","approved":false}', ?)`).run(now);
    const session = old.prepare(`INSERT INTO sessions (session_id, request_id, dispenser_id, account_id, approved_ml,
      created_at, hold_expires_at, settled_at) VALUES (?, ?, 'D1', 'TSF000101', ?, ?, ?, ?)`);
    session.run('s-open', 'r2', 5000, now, now + 60_000, null);
    session.run('s-done', 'r3', 3000, now, now + 60_000, now);
    // The settled session's event, as settlement wrote it in the same transaction.
    old
      .prepare(`INSERT INTO ledger_events (event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id,
        occurred_at, details, acked_at) VALUES ('e1', 'dispense', 'TSF000101', -2900, 'K1', 'D1', 's-done', ?, ?, ?)`)
      .run(now, JSON.stringify({ request_id: 'r3', approved_ml: 3000, delivered_ml: 2900 }), now);
    old
      .prepare(`INSERT INTO ledger_events (event_id, type, account_id, amount_ml, source_id, occurred_at)
        VALUES ('e2', 'dispense', 'TSF000101', -1000, 's-x', ?)`)
      .run(now);
    old.close();

    const store = new Store(openDatabase(dir));
    // Only the open session is left as a hold; the sessions table and its index are gone.
    expect(store.holds.heldMlFor('TSF000101', now)).toBe(5000);
    expect(store.holds.openHoldOn('D1', now)?.session_id).toBe('s-open');
    expect(store.db.prepare('SELECT session_id FROM holds').pluck().all()).toEqual(['s-open']);
    expect(
      store.db.prepare(`SELECT name FROM sqlite_schema WHERE name IN ('sessions', 'sessions_unsettled')`).all(),
    ).toEqual([]);
    // A repeat completion of the settled session finds it through the ledger: acknowledged again.
    const flow = new DispenseFlow({
      store,
      settings: resolveSettings(),
      kioskId: 'K1',
      interlocks: new Interlocks(),
      events: new GatewayEvents(),
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
    expect(await flow.complete({ session_id: 's-done', request_id: 'r3', delivered_ml: 2900 }, 'D1')).toMatchObject({
      session_id: 's-done',
      event_id: 'e1',
      recorded_ml: 2900,
    });
    expect(store.holds.findDecision('r1')).toEqual({
      dispenser_id: 'D1',
      response: { request_id: 'r1', approved: false },
    });
    expect(store.holds.pruneDecisions(now + 1)).toBe(1);
    // The ledger keeps every event, its seq, acknowledgement (713: a watermark), uniqueness and immutability.
    expect(store.db.prepare('SELECT seq, event_id FROM ledger_events ORDER BY seq').all()).toEqual([
      { seq: 1, event_id: 'e1' },
      { seq: 2, event_id: 'e2' },
    ]);
    expect(store.ledger.acknowledgedThrough()).toBe(1);
    expect(store.ledger.unacknowledged(10).map((e) => e.event_id)).toEqual(['e2']);
    store.ledger.append({ event_id: 'e3', type: 'topup', account_id: 'TSF000101', amount_ml: 5, occurred_at: now });
    expect(store.db.prepare(`SELECT seq FROM ledger_events WHERE event_id = 'e3'`).pluck().get()).toBe(3);
    expect(() =>
      store.ledger.append({ event_id: 'e4', type: 'dispense', amount_ml: -1, source_id: 's-done', occurred_at: now }),
    ).toThrow(/UNIQUE/);
    expect(() => store.db.prepare(`DELETE FROM ledger_events`).run()).toThrow(/immutable/);
    store.close();
  });
});
