import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { backends, freshDb } from '../../test/backends.js';
import { CUSTOMERS_CHANGED_CHANNEL, NOTIFY_AFTER_COMMIT_SETTING } from './migrations.js';
import { sqlTextArray } from './db.js';
import { openCloudDatabase } from './open-database.js';

/** A channel no other test file notifies: on the server every schema shares the channels. */
const channel = (): string => `t_${randomBytes(6).toString('hex')}`;

describe.each(backends())('notifications after commit on $name', (backend) => {
  const db = freshDb(backend);

  async function counting(name: string): Promise<() => number> {
    let heard = 0;
    await db().listen(name, () => void (heard += 1));
    return () => heard;
  }

  it("wake a transaction's channels once it has committed, never when it rolls back", async () => {
    const [first, second] = [channel(), channel()];
    const [heardFirst, heardSecond] = [await counting(first), await counting(second)];

    await expect(
      db().transaction(
        async (tx) => {
          await tx.query('SELECT 1');
          throw new Error('rolled back');
        },
        { notifyAfterCommit: [first] },
      ),
    ).rejects.toThrow('rolled back');
    await db().transaction((tx) => tx.query('SELECT 1'), { notifyAfterCommit: [first, second] });

    // Both channels go out in one statement, `first` before `second`: by the time `second` is
    // heard, a wake-up from the rolled-back transaction would have been heard on `first` before it.
    await expect.poll(heardSecond).toBe(1);
    expect(heardFirst()).toBe(1);
  });

  it('opens a transaction with a statement whose values are built in, whatever they hold', async () => {
    const values = [
      'TSF0001',
      "O'Brien",
      'say "hi"',
      'back\\slash',
      'a,b',
      '{x}',
      'NULL',
      '',
      ' sp ',
      "'); DROP TABLE customers; --",
    ];
    const opened = await db().transaction(async (_tx, rows) => rows, {
      opening: `SELECT value FROM unnest(${sqlTextArray(values)}) WITH ORDINALITY AS v(value, n) ORDER BY n`,
    });
    expect(opened.map((row) => row['value'])).toEqual(values);
    expect(await db().query('SELECT count(*)::int AS n FROM customers')).toHaveLength(1);
  });

  it('turns off the NOTIFY of the customers trigger for that transaction only', async () => {
    const done = channel();
    const heardCustomers = await counting(CUSTOMERS_CHANGED_CHANNEL);
    const heardDone = await counting(done);
    await db().query(
      `INSERT INTO customers (account_id, phone, name, status, version) VALUES ('DB-1', '+254700000901', 'Quiet', 'active', 0)`,
    );
    // The insert's own notification first; other schemas on the server notify the same channel, so
    // only the embedded database can count it.
    await expect.poll(heardCustomers).toBeGreaterThan(0);
    const before = heardCustomers();
    await db().transaction((tx) => tx.query(`UPDATE customers SET name = 'Still quiet' WHERE account_id = 'DB-1'`), {
      notifyAfterCommit: [done],
    });
    await expect.poll(heardDone).toBe(1);
    if (backend.name === 'pglite') expect(heardCustomers()).toBe(before);
  });
});

const server = backends().find((backend) => backend.name === 'postgres');

describe.skipIf(!server)('the customers trigger on the PostgreSQL server', () => {
  afterAll(() => server?.cleanup());

  it('stays silent in a transaction that notifies after its commit, and notifies in any other', async () => {
    const options = server!.fresh();
    const db = await openCloudDatabase(options);
    const connect = async (): Promise<pg.Client> => {
      const client = new pg.Client({
        connectionString: options.databaseUrl,
        options: `-c search_path=${options.databaseSchema}`,
      });
      await client.connect();
      return client;
    };
    const [writer, listener] = [await connect(), await connect()];
    try {
      // Payloads from this writer's backend only: other test files notify the same channel.
      const writerPid = (await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const heard: string[] = [];
      listener.on('notification', (message) => {
        if (message.processId === writerPid) heard.push(message.payload || 'trigger');
      });
      await listener.query(`LISTEN ${CUSTOMERS_CHANGED_CHANNEL}`);
      await writer.query(
        `INSERT INTO customers (account_id, phone, name, status, version) VALUES ('DB-2', '+254700000902', 'A', 'active', 0)`,
      );
      await expect.poll(() => heard).toEqual(['trigger']);

      await writer.query(`BEGIN; SELECT set_config('${NOTIFY_AFTER_COMMIT_SETTING}', 'on', true);
        UPDATE customers SET name = 'B' WHERE account_id = 'DB-2'; COMMIT`);
      await writer.query(`SELECT pg_notify('${CUSTOMERS_CHANGED_CHANNEL}', 'marker')`);
      await writer.query(`UPDATE customers SET name = 'C' WHERE account_id = 'DB-2'`);
      // Notifications from one backend arrive in its commit order.
      await expect.poll(() => heard).toEqual(['trigger', 'marker', 'trigger']);
    } finally {
      await Promise.all([writer.end(), listener.end(), db.close()]);
    }
  });
});

describe.skipIf(!server)('statements on the PostgreSQL server', () => {
  afterAll(() => server?.cleanup());

  it('are parsed once per connection when they have parameters, and give the same answers', async () => {
    const db = await openCloudDatabase({ ...server!.fresh(), databasePoolSize: 1 });
    try {
      const sql = 'SELECT $1::int + 1 AS next';
      const answers = [];
      for (const n of [1, 2, 3]) answers.push(...(await db.query<{ next: number }>(sql, [n])));
      expect(answers.map((row) => row.next)).toEqual([2, 3, 4]);
      // The pool's one connection holds it prepared once, under one name; no parameters, no name.
      const prepared = await db.query<{ name: string; statement: string }>(
        'SELECT name, statement FROM pg_prepared_statements WHERE statement = $1',
        [sql],
      );
      expect(prepared).toEqual([{ name: expect.stringMatching(/^tusafishe_\d+$/), statement: sql }]);
      await db.transaction(async (tx) => expect(await tx.query<{ next: number }>(sql, [41])).toEqual([{ next: 42 }]));
      await db.query('SELECT 1');
      expect(
        await db.query('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', ['SELECT 1']),
      ).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  });
});
