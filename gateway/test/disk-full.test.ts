/**
 * A gateway whose disk fills up. On a real tiny file system (a 6 MB tmpfs mounted for the
 * test, which needs root) or, where mounting is not allowed, with SQLite's max_page_count
 * emulating the full disk on the gateway's connection.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthApproved } from '@tusafishe/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageState } from '../src/store/storage-guard.js';
import { startTestGateway, TestDispenser, type TestGateway } from './fixtures.js';

let dir: string;
let mounted = false;
let gateway: TestGateway | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tusafishe-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', dir], { stdio: 'ignore' });
    mounted = true;
  } catch {
    console.warn('cannot mount a tmpfs here: emulating the full disk with SQLite max_page_count');
  }
});
afterAll(async () => {
  await gateway?.close();
  if (mounted) execFileSync('umount', [dir]);
  await rm(dir, { recursive: true, force: true });
});

/**
 * Fills the disk with sensor readings, as months without retention would, until SQLite says it is
 * full. Checkpointed after each batch, as the WAL is in the field: readings arrive slowly and the
 * database file grows, not the WAL.
 */
function fillWithReadings(g: TestGateway): void {
  if (!mounted)
    g.store.db.pragma(`max_page_count = ${(g.store.db.pragma('page_count', { simple: true }) as number) + 400}`);
  const insert = g.store.db.prepare(
    "INSERT INTO hardware_readings (sensor, at, value, unit) VALUES ('turbidity', ?, 0.3, 'NTU')",
  );
  const batch = g.store.db.transaction((from: number) => {
    for (let i = 0; i < 2000; i++) insert.run(from + i);
  });
  for (let n = 0; n < 1000; n++) {
    try {
      batch(n * 2000);
      g.store.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (error) {
      expect((error as { code?: string }).code).toBe('SQLITE_FULL');
      return;
    }
  }
  throw new Error('the disk never filled');
}

/**
 * On the mounted file system, takes every byte still free with a file of its own, and returns what
 * deletes it. Emulated, the database can grow no more (max_page_count) and the WAL is not limited:
 * there the approval is refused only if it needs a new page.
 */
function fillTheRest(at: string): (() => void) | null {
  if (!mounted) {
    gateway!.store.db.pragma(`max_page_count = ${gateway!.store.db.pragma('page_count', { simple: true })}`);
    return null;
  }
  const file = join(at, 'filler');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    expect((error as { code?: string }).code).toBe('ENOSPC');
  } finally {
    closeSync(fd);
  }
  // The failed batch left the WAL file long, and commits reuse those blocks: take them a page at a
  // time, with no checkpoint meanwhile (after one, the WAL would start again from its first block).
  const db = gateway!.store.db;
  const checkpointAt = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.pragma('wal_autocheckpoint = 0');
  const onePage = db.prepare(
    'UPDATE hardware_readings SET value = -value WHERE rowid = (SELECT max(rowid) FROM hardware_readings)',
  );
  try {
    for (let page = 0; page < 100_000; page++) onePage.run();
    throw new Error('the WAL never filled');
  } catch (error) {
    expect((error as { code?: string }).code).toBe('SQLITE_FULL');
  } finally {
    db.pragma(`wal_autocheckpoint = ${checkpointAt}`);
  }
  return () => rmSync(file);
}

describe('a full disk', () => {
  it('denies new dispenses with STORAGE_FULL, frees space by pruning readings, loses nothing acknowledged', {
    timeout: 120_000,
  }, async () => {
    gateway = await startTestGateway({ dataDir: dir, keepDataDir: true });
    const states: StorageState[] = [];
    gateway.store.storage!.on('change', (state) => states.push(state));
    const d1 = await TestDispenser.connect(gateway, 'D1');
    const d2 = await TestDispenser.connect(gateway, 'D2');
    try {
      const first = (await d1.authorise(d1.request('0700000101', 1000))) as AuthApproved;
      const firstAck = await d1.complete(d1.completion(first, 1000));
      // Water approved before the disk fills is still being drawn when it does.
      const open = (await d2.authorise(d2.request('0700000102', 2000))) as AuthApproved;
      expect(open.approved).toBe(true);

      fillWithReadings(gateway);
      const readingsBefore = gateway.store.db.prepare('SELECT count(*) FROM hardware_readings').pluck().get() as number;
      // What the last batch could not use: an approval writes a page or two, which would still fit.
      const filler = fillTheRest(dir);

      // The first write that hits the full disk: a clear denial the LCD can show, nothing recorded.
      const refused = await d1.authorise(d1.request('0700000103', 1000));
      expect(refused).toMatchObject({ approved: false, reason: 'STORAGE_FULL', message: 'Kiosk full: no water' });
      expect(states[0]).toBe('full');
      filler?.();

      // Retention freed space: readings pruned, dispensing resumes.
      await expect.poll(() => gateway!.store.storage!.state, { timeout: 30_000 }).toBe('ok');
      const readingsAfter = gateway.store.db.prepare('SELECT count(*) FROM hardware_readings').pluck().get() as number;
      expect(readingsAfter).toBeLessThan(readingsBefore);

      // The open session settles (the dispenser repeats its report until acknowledged): exactly once.
      const report = d2.completion(open, 2000);
      const ack = await d2.complete(report);
      expect(ack).toMatchObject({ session_id: open.session_id, recorded_ml: 2000 });
      expect((await d2.complete(report)).event_id).toBe(ack.event_id);
      const again = await d1.authorise(d1.request('0700000103', 1000));
      expect(again.approved).toBe(true);

      const dispenses = gateway.store.ledger.eventsFor('TSF000101').filter((e) => e.type === 'dispense');
      expect(dispenses.map((e) => e.event_id)).toEqual([firstAck.event_id]);
      expect(gateway.store.ledger.eventsFor('TSF000102').filter((e) => e.type === 'dispense')).toHaveLength(1);
    } finally {
      await d1.close();
      await d2.close();
    }
  });
});
