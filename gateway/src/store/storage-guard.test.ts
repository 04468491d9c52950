import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from './database.js';
import { GroupCommit, type WalSync } from './group-commit.js';
import { StorageGuard } from './storage-guard.js';

let dir: string | undefined;
let db: Db | undefined;
afterEach(async () => {
  db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an fsync failure', () => {
  it('fails the batch it hit, and every later write until restart (never an ack after it)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tusafishe-fsync-'));
    db = openDatabase(dir);
    const guard = new StorageGuard(db, dir);
    let syncs = 0;
    const failing: WalSync = Object.assign(
      async () => {
        syncs++;
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      },
      { close: () => undefined },
    );
    const commit = new GroupCommit(db, failing, guard);
    const write = (key: string) =>
      commit.run(() => db!.prepare("INSERT INTO settings (key, value) VALUES (?, 'x')").run(key));

    await expect(write('a')).rejects.toThrow(/EIO/);
    expect(guard.state).toBe('failed');
    await expect(write('b')).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(syncs).toBe(1); // nothing more was written or synced
    expect(db.prepare("SELECT count(*) FROM settings WHERE key = 'b'").pluck().get()).toBe(0);
    guard.close();
  });
});
