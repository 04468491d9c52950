import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from './database.js';
import { GroupCommit } from './group-commit.js';

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

describe('group commit', () => {
  it('commits the writes of one turn together, in order, and a failing write alone rolls back', async () => {
    const commit = new GroupCommit(db);
    const put = (key: string) => () => db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(key, 'v').changes;
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
});
