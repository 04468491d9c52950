import { openAsBlob } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openPgliteDb, openPostgresDb, type Db } from './db.js';
import { migrate } from './migrations.js';

export interface DatabaseTarget {
  /** A PostgreSQL server (production); without it, embedded PGlite. */
  databaseUrl?: string | undefined;
  databaseSchema?: string | undefined;
  databasePoolSize?: number | undefined;
  /** PGlite keeps its files in `<dataDir>/cloud-pg`; in memory when absent. */
  dataDir?: string | undefined;
  /**
   * In-memory PGlite starts from this data-directory image (a `dumpDataDir` tarball, e.g. already
   * migrated) instead of an empty cluster: tests start many clouds, and initdb is most of a start.
   */
  pgliteImage?: string | undefined;
}

/** Opens the cloud's database and brings its schema up to date: used by the cloud and by operator commands. */
export async function openCloudDatabase(target: DatabaseTarget): Promise<Db> {
  const db = await open(target);
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

async function open(target: DatabaseTarget): Promise<Db> {
  if (target.databaseUrl) {
    return openPostgresDb({
      connectionString: target.databaseUrl,
      ...(target.databaseSchema ? { schema: target.databaseSchema } : {}),
      ...(target.databasePoolSize ? { maxConnections: target.databasePoolSize } : {}),
    });
  }
  if (!target.dataDir)
    return openPgliteDb(undefined, target.pgliteImage ? await openAsBlob(target.pgliteImage) : undefined);
  const dir = join(target.dataDir, 'cloud-pg');
  await mkdir(dir, { recursive: true });
  return openPgliteDb(dir);
}
