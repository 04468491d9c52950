import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { backends } from '../../test/backends.js';
import { openCloudDatabase } from './open-database.js';

const server = backends().find((backend) => backend.name === 'postgres');

describe.skipIf(!server)('migrations on the PostgreSQL server', () => {
  afterAll(() => server?.cleanup());

  it('run once when several cloud instances start together', async () => {
    const options = server!.fresh();
    // The schema exists beforehand, as the database does in production.
    const client = new pg.Client({ connectionString: options.databaseUrl });
    await client.connect();
    await client.query(`CREATE SCHEMA ${options.databaseSchema}`);
    await client.end();

    const target = { databaseUrl: options.databaseUrl, databaseSchema: options.databaseSchema, databasePoolSize: 2 };
    const instances = await Promise.all([1, 2, 3].map(() => openCloudDatabase(target)));
    try {
      const rows = await instances[0]!.query<{ version: number; count: number }>(
        'SELECT version, count(*)::int AS count FROM schema_migrations GROUP BY version ORDER BY version',
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((row) => row.count === 1)).toBe(true);
      // Ascending, from 1; versions given to work in progress may leave gaps.
      expect(rows[0]?.version).toBe(1);
    } finally {
      await Promise.all(instances.map((db) => db.close()));
    }
  });
});
