import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import type { CloudOptions, RunningCloud } from '../src/cloud.js';
import type { Db } from '../src/store/db.js';

/** A database the suite runs against: PGlite always, the PostgreSQL server when TEST_DATABASE_URL is set. */
export interface Backend {
  name: 'pglite' | 'postgres';
  /** Options for one fresh, isolated database (a new schema on the server). */
  fresh(): CloudOptions;
  /** Drops what `fresh` made. */
  cleanup(): Promise<void>;
}

export function backends(): Backend[] {
  const pglite: Backend = { name: 'pglite', fresh: freshPglite, cleanup: async () => undefined };
  const list: Backend[] = [pglite];
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

/** An in-memory PGlite database started from the migrated image global-setup.ts built (initdb when run without it). */
export function freshPglite(): CloudOptions {
  // Scripts outside vitest (`npm run screenshots`) share the harness but have no global setup.
  return process.env['VITEST'] ? { pgliteImage: inject('pgliteImage') } : {};
}

/**
 * A fresh database of `backend` for the tests of the `describe` it is called in: opened before
 * them (embedded Postgres takes a minute to start on a loaded machine), closed and dropped after.
 */
export function freshDb(backend: Backend): () => Db {
  let db: Db | undefined;
  beforeAll(async () => {
    const { openCloudDatabase } = await import('../src/store/open-database.js');
    db = await openCloudDatabase(backend.fresh());
  }, 180_000);
  afterAll(async () => {
    await db?.close();
    await backend.cleanup();
  });
  return () => {
    if (!db) throw new Error('the database opens before the tests');
    return db;
  };
}

/**
 * A cloud on a fresh database of `backend`, as the suite's tests start it: a free port, no
 * logging, no background status polling (tests drive it). `options` adds to or replaces these.
 */
export async function startTestCloud(backend: Backend, options: CloudOptions = {}): Promise<RunningCloud> {
  // Imported here: the store's unit tests use `backends()` without loading the whole cloud.
  const { startCloud } = await import('../src/cloud.js');
  return startCloud({ ...backend.fresh(), port: 0, logger: false, providers: { statusPollIntervalMs: 0 }, ...options });
}

/** Closes a cloud from `startTestCloud` (if it started) and drops its database. */
export async function stopTestCloud(cloud: RunningCloud | undefined, backend: Backend): Promise<void> {
  await cloud?.close();
  await backend.cleanup();
}
