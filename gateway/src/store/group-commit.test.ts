import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from './database.js';
import { GroupCommit, walSync } from './group-commit.js';

let dir: string;
let db: Db;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-group-'));
  db = openDatabase(dir);
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const put = (key: string) => () => db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(key, 'v').changes;

describe('group commit', () => {
  it('commits the writes of one turn together, in order, and a failing write alone rolls back', async () => {
    const commit = new GroupCommit(db);
    const results = await Promise.allSettled([
      commit.run(put('a')),
      commit.run(() => {
        put('b')();
        throw new Error('refused');
      }),
      commit.run(() => db.prepare('SELECT count(*) FROM settings').pluck().get()),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[2]).toMatchObject({ value: 1 });
    expect(db.prepare('SELECT key FROM settings').pluck().all()).toEqual(['a']);
  });

  it('settles a write only after the WAL is synced, with one sync per batch', async () => {
    const order: string[] = [];
    const sync = walSync(db);
    const spy = Object.assign(
      async () => {
        order.push('sync');
        await sync();
      },
      { close: () => sync.close() },
    );
    const commit = new GroupCommit(db, spy);
    await Promise.all([
      commit.run(put('a')).then(() => order.push('a')),
      commit.run(put('b')).then(() => order.push('b')),
    ]);
    expect(order).toEqual(['sync', 'a', 'b']);
    commit.close();
  });

  it('reports a failed sync to every write of the batch, and leaves the connection at synchronous=FULL', async () => {
    const commit = new GroupCommit(
      db,
      Object.assign(() => Promise.reject(new Error('disk gone')), { close: () => undefined }),
    );
    await expect(commit.run(put('a'))).rejects.toThrow('disk gone');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });
});
