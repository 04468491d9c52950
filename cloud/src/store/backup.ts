import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { CloudError } from '../errors.js';
import type { DatabaseTarget } from './open-database.js';
import { openCloudDatabase } from './open-database.js';

const run = promisify(execFile);

/** What a backup file holds: `pg_dump --format=custom` of the server, or PGlite's data-directory tarball. */
export type CloudBackupKind = 'pg_dump' | 'pglite';

export interface CloudBackupResult {
  kind: CloudBackupKind;
  file: string;
  bytes: number;
}

/**
 * Writes a consistent backup of the cloud database to `outFile` (written beside it, then renamed,
 * so a crash never leaves a half file under the final name). The server is dumped online with
 * `pg_dump` (one snapshot, any number of cloud instances running); PGlite is single-process, so
 * the cloud using that data dir must be stopped first.
 */
export async function backupCloud(target: DatabaseTarget, outFile: string): Promise<CloudBackupResult> {
  const partial = `${outFile}.partial`;
  try {
    let kind: CloudBackupKind;
    if (target.databaseUrl) {
      kind = 'pg_dump';
      const schema = target.databaseSchema ? [`--schema=${target.databaseSchema}`] : [];
      await pgTool('pg_dump', ['--format=custom', '--no-owner', `--file=${partial}`, ...schema], target.databaseUrl);
    } else {
      kind = 'pglite';
      const lite = await PGlite.create(pgliteDir(target));
      try {
        const tarball = await lite.dumpDataDir('gzip');
        await writeFile(partial, Buffer.from(await tarball.arrayBuffer()));
      } finally {
        await lite.close();
      }
    }
    const handle = await open(partial, 'r+');
    await handle.sync();
    const { size } = await handle.stat();
    await handle.close();
    await rename(partial, outFile);
    return { kind, file: outFile, bytes: size };
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

export interface CloudRestoreOptions {
  /** Restore over a database that already holds ledger events; without it such a restore is refused. */
  replace?: boolean;
}

/**
 * Restores `file` into the target: the server with `pg_restore --clean --single-transaction`
 * (all or nothing), PGlite into a fresh data dir (the old one is kept beside it as
 * `cloud-pg.replaced-<time>`). Refuses a file of the other kind, and a non-empty database unless
 * `replace`. Afterwards the schema is migrated forward, as the cloud does at start.
 */
export async function restoreCloud(
  target: DatabaseTarget,
  file: string,
  options: CloudRestoreOptions = {},
): Promise<CloudBackupKind> {
  const kind = await backupKind(file);
  const wanted: CloudBackupKind = target.databaseUrl ? 'pg_dump' : 'pglite';
  if (kind !== wanted) {
    throw new CloudError(
      'BACKUP_MISMATCH',
      `${file} is a ${kind} backup, but the target is ${target.databaseUrl ? 'a PostgreSQL server' : 'embedded PGlite'}`,
    );
  }
  if (!options.replace && (await holdsLedger(target))) {
    throw new CloudError('RESTORE_WOULD_REPLACE', 'the target database already holds ledger events; pass --replace');
  }
  if (target.databaseUrl) {
    await pgTool(
      'pg_restore',
      ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', file],
      target.databaseUrl,
    );
  } else {
    const dir = pgliteDir(target);
    const staging = `${dir}.restoring`;
    await rm(staging, { recursive: true, force: true });
    const lite = await PGlite.create({ dataDir: staging, loadDataDir: new Blob([await readFile(file)]) });
    await lite.close();
    if (existsSync(dir)) await rename(dir, `${dir}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    await rename(staging, dir);
  }
  const db = await openCloudDatabase(target);
  await db.close();
  return kind;
}

function pgliteDir(target: DatabaseTarget): string {
  if (!target.dataDir) throw new CloudError('INVALID_CONFIG', 'set DATABASE_URL or a data dir to back up');
  return join(target.dataDir, 'cloud-pg');
}

async function backupKind(file: string): Promise<CloudBackupKind> {
  const handle = await open(file, 'r').catch(() => {
    throw new CloudError('BACKUP_MISMATCH', `cannot read ${file}`);
  });
  const head = Buffer.alloc(5);
  await handle.read(head, 0, 5, 0);
  await handle.close();
  if (head.toString('latin1') === 'PGDMP') return 'pg_dump';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'pglite';
  throw new CloudError('BACKUP_MISMATCH', `${file} is not a cloud backup (neither pg_dump custom format nor PGlite's)`);
}

async function holdsLedger(target: DatabaseTarget): Promise<boolean> {
  if (!target.databaseUrl && !existsSync(pgliteDir(target))) return false;
  const db = await openCloudDatabase(target);
  try {
    return (await db.query('SELECT 1 FROM ledger_events LIMIT 1')).length > 0;
  } finally {
    await db.close();
  }
}

/** Runs a PostgreSQL client tool on the server at `url`; the URL (it may hold a password) never reaches an error. */
async function pgTool(tool: string, args: string[], url: string): Promise<void> {
  try {
    await run(tool, [...args, `--dbname=${url}`], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stderr, code } = error as { stderr?: string; code?: string | number };
    const reason = code === 'ENOENT' ? `${tool} is not installed (Debian: postgresql-client)` : stderr?.trim();
    throw new CloudError(
      'BACKUP_FAILED',
      `${tool} failed: ${(reason || String(code)).replaceAll(url, '<DATABASE_URL>')}`,
    );
  }
}
