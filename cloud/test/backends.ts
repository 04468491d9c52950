import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { CloudOptions } from '../src/cloud.js';

/** A database the suite runs against: PGlite always, the PostgreSQL server when TEST_DATABASE_URL is set. */
export interface Backend {
  name: 'pglite' | 'postgres';
  /** Options for one fresh, isolated database (a new schema on the server). */
  fresh(): CloudOptions;
  /** Drops what `fresh` made. */
  cleanup(): Promise<void>;
}

export function backends(): Backend[] {
  const list: Backend[] = [{ name: 'pglite', fresh: () => ({}), cleanup: async () => undefined }];
  const url = process.env['TEST_DATABASE_URL'];
  if (url) {
    const schemas: string[] = [];
    list.push({
      name: 'postgres',
      fresh() {
        const schema = `t_${randomBytes(6).toString('hex')}`;
        schemas.push(schema);
        // Few connections each: every part's test files share the one server.
        return { databaseUrl: url, databaseSchema: schema, databasePoolSize: 3 };
      },
      async cleanup() {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      },
    });
  }
  return list;
}
