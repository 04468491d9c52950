import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '@tusafishe/protocol';
import { customer } from '../../test/sync-harness.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import {
  BACKUPS_DIR,
  backupGateway,
  PENDING_RESTORE_FILE,
  restoreGateway,
  restorePendingBackup,
  startDailyBackups,
} from './backup.js';
import { DATABASE_FILE, openDatabase, PAGE_SIZE } from './database.js';
import { Store } from './store.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-gw-backup-'));
  dirs.push(dir);
  return dir;
}

function appendDispense(store: Store, ml: number): void {
  store.ledger.append({
    event_id: newId(),
    type: 'dispense',
    account_id: 'TS0000001',
    amount_ml: -ml,
    kiosk_id: 'K1',
    dispenser_id: 'D1',
    source_id: newId(),
    occurred_at: Date.now(),
  });
}

const ledgerOf = (store: Store) =>
  store.db
    .prepare(
      'SELECT event_id, amount_ml, seq <= (SELECT seq FROM ledger_acked) AS acked FROM ledger_events ORDER BY event_id',
    )
    .all();

describe('gateway backup and restore', () => {
  it("takes scheduled backups without the replica: the restored gateway keeps the kiosk's own data and pulls customers again", async () => {
    const dataDir = await tempDir();
    const store = new Store(openDatabase(dataDir));
    store.applyCustomerRecords(Array.from({ length: 3000 }, (_, i) => ({ ...customer(i + 1), version: 1 })));
    store.db.prepare("UPDATE sync_state SET cursor = 'c-3000', refetching = 0 WHERE id = 1").run();
    for (let i = 1; i <= 20; i += 1) appendDispense(store, i);
    store.acknowledgeEvents(store.unacknowledgedEvents(10).map((event) => event.event_id));
    const now = Date.now();
    store.holds.open({
      session_id: 's-open',
      request_id: 'r-open',
      dispenser_id: 'D1',
      account_id: 'AQP000007',
      approved_ml: 5000,
      created_at: now,
      hold_expires_at: now + 600_000,
    });
    const backups = startDailyBackups({
      db: store.db,
      dataDir,
      keep: 2,
      intervalMs: 86_400_000,
      logger: pino({ level: 'silent' }),
    });
    const scheduled = (await backups.runOnce())!;
    await backups.close();
    const whole = join(await tempDir(), 'whole.db');
    await backupGateway(dataDir, whole);
    const live = ledgerOf(store);
    store.close();

    // The replica is most of the file: the whole copy holds it, the scheduled one only its schema.
    expect(statSync(scheduled).size * 4).toBeLessThan(statSync(whole).size);
    const restored = new Store(openDatabase(await restoredCopy(scheduled)));
    expect(ledgerOf(restored)).toEqual(live);
    expect(restored.ledger.acknowledgedThrough()).toBe(10);
    expect(restored.holds.heldMlFor('AQP000007', now)).toBe(5000);
    expect(restored.db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
    // As at first boot: the whole replica is pulled again before the old cursor could mean anything.
    expect(restored.db.prepare('SELECT cursor, refetching FROM sync_state').get()).toEqual({
      cursor: null,
      refetching: 1,
    });
    expect(restored.customers.count()).toBe(0);
    // The replica's triggers came with the schema: a pulled customer is found by phone and counted.
    restored.applyCustomerRecords([{ ...customer(7), version: 1 }]);
    expect(restored.customers.findByPhone('+254700000007')?.account_id).toBe('AQP000007');
    expect(restored.customers.count()).toBe(1);
    restored.close();

    const wholeCopy = new Store(openDatabase(await restoredCopy(whole)));
    expect(wholeCopy.customers.count()).toBe(3000);
    wholeCopy.close();
  });

  it('backs up online while the gateway writes, and backup → wipe → restore gives back the ledger', async () => {
    const dataDir = await tempDir();
    const store = new Store(openDatabase(dataDir));
    for (let i = 1; i <= 50; i += 1) appendDispense(store, i * 10);
    const file = join(await tempDir(), 'gateway.backup');
    // The gateway keeps writing while the copy is taken.
    const writing = setInterval(() => appendDispense(store, 1), 1);
    const result = await backupGateway(dataDir, file);
    clearInterval(writing);
    expect(result.bytes).toBeGreaterThan(0);
    const atBackup = new Store(openDatabase(await restoredCopy(file)));
    const backedUp = ledgerOf(atBackup);
    atBackup.close();
    expect(backedUp.length).toBeGreaterThanOrEqual(50);

    // A running gateway's database cannot be replaced under it; nothing changes.
    const live = ledgerOf(store);
    await expect(restoreGateway(dataDir, file)).rejects.toMatchObject({ code: 'DATABASE_IN_USE' });
    expect(ledgerOf(store)).toEqual(live);
    store.close();

    for (const name of readdirSync(dataDir)) await rm(join(dataDir, name));
    expect((await restoreGateway(dataDir, file)).replaced).toBeNull();
    const restored = new Store(openDatabase(dataDir));
    expect(ledgerOf(restored)).toEqual(backedUp);
    restored.close();
  });

  it('keeps the database it replaces, and refuses a file that is not a gateway database', async () => {
    const dataDir = await tempDir();
    const store = new Store(openDatabase(dataDir));
    appendDispense(store, 500);
    const file = join(await tempDir(), 'gateway.backup');
    await backupGateway(store.db, file);
    appendDispense(store, 700);
    store.close();

    const junk = join(await tempDir(), 'junk.db');
    writeFileSync(junk, 'not sqlite at all');
    await expect(restoreGateway(dataDir, junk)).rejects.toMatchObject({ code: 'BACKUP_INVALID' });
    expect(existsSync(join(dataDir, DATABASE_FILE))).toBe(true);

    const { replaced } = await restoreGateway(dataDir, file);
    expect(replaced).toMatch(/gateway\.db\.replaced-/);
    const old = new Store(openDatabase(await restoredCopy(replaced!)));
    expect(ledgerOf(old)).toHaveLength(2);
    old.close();
  });

  it('restores a backup left in DATA_DIR/restore-gateway.db at the next start, once', async () => {
    const dataDir = await tempDir();
    let store = new Store(openDatabase(dataDir));
    appendDispense(store, 300);
    const file = join(await tempDir(), 'gateway.backup');
    await backupGateway(store.db, file);
    appendDispense(store, 400);
    store.close();
    expect(await restorePendingBackup(dataDir)).toBeNull();

    copyFileSync(file, join(dataDir, PENDING_RESTORE_FILE));
    expect(await restorePendingBackup(dataDir)).toMatch(/restore-gateway\.db\.done-/);
    expect(existsSync(join(dataDir, PENDING_RESTORE_FILE))).toBe(false);
    store = new Store(openDatabase(dataDir));
    expect(ledgerOf(store)).toHaveLength(1);
    store.close();
    expect(await restorePendingBackup(dataDir)).toBeNull();
  });

  it('takes a daily backup into DATA_DIR/backups and keeps only the newest', async () => {
    const dataDir = await tempDir();
    const store = new Store(openDatabase(dataDir));
    const day = 86_400_000;
    let now = Date.now();
    const backups = startDailyBackups({
      db: store.db,
      dataDir,
      keep: 3,
      intervalMs: day,
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
    const dir = join(dataDir, BACKUPS_DIR);
    const taken = () => readdirSync(dir).filter((name) => name.endsWith('Z.db'));
    // The start-up backup is under way; runOnce joins it rather than racing its file appearing.
    expect(await backups.runOnce()).toMatch(/gateway-\d{8}T\d{6}Z\.db$/);
    expect(taken()).toHaveLength(1);
    expect(await backups.runOnce()).toBeNull(); // not a day old yet
    for (let i = 1; i <= 4; i += 1) {
      now += day;
      appendDispense(store, i);
      expect(await backups.runOnce()).toMatch(/gateway-\d{8}T\d{6}Z\.db$/);
    }
    const kept = readdirSync(dir).sort();
    expect(taken()).toEqual(kept);
    expect(kept).toHaveLength(3);
    await backups.close();
    store.close();
    // The newest holds everything written before it.
    const newest = new Store(openDatabase(await restoredCopy(join(dir, kept.at(-1)!))));
    expect(ledgerOf(newest)).toHaveLength(4);
    newest.close();
  });

  it('backs up weekly while the cloud has every event, daily while events wait unpushed', async () => {
    const dataDir = await tempDir();
    const store = new Store(openDatabase(dataDir));
    const day = 86_400_000;
    let now = Date.now();
    const backups = startDailyBackups({
      db: store.db,
      dataDir,
      keep: 10,
      intervalMs: 7 * day,
      unsyncedIntervalMs: day,
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
    expect(await backups.runOnce()).not.toBeNull();
    now += day;
    expect(await backups.runOnce()).toBeNull(); // synced: a week
    appendDispense(store, 300); // occurred a day before the test's clock: unpushed for a day
    expect(await backups.runOnce()).not.toBeNull();
    store.acknowledgeEvents(store.unacknowledgedEvents(10).map((event) => event.event_id));
    now += 2 * day;
    expect(await backups.runOnce()).toBeNull();
    now += 5 * day;
    expect(await backups.runOnce()).not.toBeNull();
    await backups.close();
    store.close();
  });
});

/** A data dir holding `file` as its database, to open with the gateway's own code. */
async function restoredCopy(file: string): Promise<string> {
  const dir = await tempDir();
  await restoreGateway(dir, file);
  return dir;
}
