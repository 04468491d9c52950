import { copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { copyWithoutReplica } from './backup-without-replica.js';
import { DATABASE_FILE, type Db } from './database.js';

/** Tables a gateway database must hold to be restored as one. */
const REQUIRED_TABLES = ['schema_migrations', 'customers', 'ledger_events', 'sync_state'];

export interface GatewayBackupResult {
  file: string;
  bytes: number;
}

/**
 * Writes an online backup of the gateway's SQLite file: a consistent copy taken while the gateway
 * keeps writing. Whole, with SQLite's backup API (better-sqlite3 `backup`); or, `replica: false`,
 * everything but the customer replica, which a restore pulls again (`copyWithoutReplica`). `source`
 * is the gateway's own connection (scheduled backups) or, from the command line, a read-only
 * connection opened beside the running process. Written beside `outFile`, checked, synced, then
 * renamed into place.
 */
export async function backupGateway(
  source: Db | string,
  outFile: string,
  { replica = true }: { replica?: boolean } = {},
): Promise<GatewayBackupResult> {
  const db = typeof source === 'string' ? openExisting(join(source, DATABASE_FILE), true) : source;
  const partial = `${outFile}.partial`;
  try {
    if (replica) {
      await db.backup(partial);
      // One self-contained file: the copy carries the live database's WAL mode, which would leave -wal/-shm beside it.
      const copy = openExisting(partial, false);
      copy.pragma('journal_mode = DELETE');
      copy.close();
    } else {
      await copyWithoutReplica(db.name, partial);
    }
    checkGatewayDatabase(partial);
    const handle = await open(partial, 'r+');
    await handle.sync();
    await handle.close();
    await rename(partial, outFile);
    return { file: outFile, bytes: (await stat(outFile)).size };
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    if (typeof source === 'string') db.close();
  }
}

/**
 * Puts `file` in place of `<dataDir>/gateway.db`. Refuses while a gateway (or anything else) has
 * the database open, and refuses a file that is not an intact gateway database; in both cases
 * nothing changes. The replaced database is kept as `gateway.db.replaced-<time>`. On its next
 * start the gateway pulls every customer change since the backup and pushes the events the
 * cloud had not acknowledged then (the cloud merges by event id, so none counts twice).
 */
export async function restoreGateway(dataDir: string, file: string): Promise<{ replaced: string | null }> {
  checkGatewayDatabase(file);
  const live = join(dataDir, DATABASE_FILE);
  let replaced: string | null = null;
  if (existsSync(live)) {
    assertNotInUse(live);
    replaced = `${live}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    // Checkpointed and closed above, so the -wal and -shm files hold nothing the main file lacks.
    await rename(live, replaced);
    for (const suffix of ['-wal', '-shm']) await rm(`${live}${suffix}`, { force: true });
  }
  await mkdir(dataDir, { recursive: true });
  const partial = `${live}.restoring`;
  await copyFile(file, partial);
  await rename(partial, live);
  return { replaced };
}

/** A backup put here (e.g. with `balena ssh` and scp) is restored at the gateway's next start. */
export const PENDING_RESTORE_FILE = 'restore-gateway.db';

/**
 * Restores `<dataDir>/restore-gateway.db` if present, before the gateway opens its database: on a
 * device the gateway is the container, so there is no moment to run `npm run restore` beside it.
 * The file is renamed `…done-<time>` after, so a restart does not restore it again.
 */
export async function restorePendingBackup(dataDir: string): Promise<string | null> {
  const pending = join(dataDir, PENDING_RESTORE_FILE);
  if (!existsSync(pending)) return null;
  await restoreGateway(dataDir, pending);
  const done = `${pending}.done-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(pending, done);
  return done;
}

/** Throws BACKUP_INVALID unless `file` is an intact SQLite database with the gateway's tables. */
function checkGatewayDatabase(file: string): void {
  let db: Db;
  try {
    db = openExisting(file, true);
  } catch (error) {
    throw new GatewayError('BACKUP_INVALID', file, `cannot be opened: ${(error as Error).message}`);
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new GatewayError('BACKUP_INVALID', file, `is damaged: ${String(integrity)}`);
    const tables = new Set(
      db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[],
    );
    const missing = REQUIRED_TABLES.filter((table) => !tables.has(table));
    if (missing.length > 0)
      throw new GatewayError('BACKUP_INVALID', file, `is not a gateway database (no ${missing.join(', ')})`);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError('BACKUP_INVALID', file, `is not a gateway database: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

/** Takes SQLite's exclusive lock without waiting: it fails while any other connection is open. */
function assertNotInUse(file: string): void {
  const db = openExisting(file, false);
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (error) {
    throw new GatewayError('DATABASE_IN_USE', file, (error as Error).message);
  } finally {
    db.close();
  }
}

function openExisting(file: string, readonly: boolean): Db {
  return new Database(file, { readonly, fileMustExist: true });
}

export interface DailyBackupOptions {
  db: Db;
  dataDir: string;
  /** How many backups to keep in `<dataDir>/backups`; older ones are deleted. */
  keep: number;
  intervalMs: number;
  /**
   * How often while the ledger holds events the cloud has not acknowledged for an hour (offline):
   * then a backup holds what nothing else does. Default: `intervalMs`.
   */
  unsyncedIntervalMs?: number;
  /** Copy the customer replica too (default: not; a restore pulls it again from the cloud). */
  replica?: boolean;
  logger: Logger;
  now?: () => number;
}

export const BACKUPS_DIR = 'backups';
const BACKUP_FILE = /^gateway-\d{8}T\d{6}Z\.db$/;

/** Events older than this and still unacknowledged mean the cloud is not getting them. */
const UNSYNCED_AFTER_MS = 3_600_000;

/**
 * Takes a backup into `<dataDir>/backups` when the newest there is `intervalMs` old (by the time in
 * its name) — `unsyncedIntervalMs` while events wait unpushed for over an hour — so a gateway
 * restarted every hour still backs up on time; checks hourly and at start. Keeps the `keep`
 * newest. A clock that went back makes the next check take one at once.
 */
export function startDailyBackups(options: DailyBackupOptions): {
  close(): Promise<void>;
  runOnce(): Promise<string | null>;
} {
  const dir = join(options.dataDir, BACKUPS_DIR);
  const now = options.now ?? Date.now;
  let running: Promise<string | null> | null = null;
  const unsynced = options.db
    .prepare<[number], number>(
      'SELECT 1 FROM ledger_events WHERE seq > (SELECT seq FROM ledger_acked) AND occurred_at < ? LIMIT 1',
    )
    .pluck();
  const dueAfter = (): number =>
    options.unsyncedIntervalMs !== undefined && unsynced.get(now() - UNSYNCED_AFTER_MS) !== undefined
      ? Math.min(options.unsyncedIntervalMs, options.intervalMs)
      : options.intervalMs;

  async function takeIfDue(): Promise<string | null> {
    await mkdir(dir, { recursive: true });
    const files = (await readdir(dir)).filter((name) => BACKUP_FILE.test(name)).sort();
    const newest = files.at(-1);
    const age = newest ? now() - stampTime(newest) : Number.POSITIVE_INFINITY;
    if (age >= 0 && age < dueAfter()) return null;
    const name = `gateway-${new Date(now())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}.db`;
    const result = await backupGateway(options.db, join(dir, name), { replica: options.replica ?? false });
    const all = [...new Set([...files, name])].sort();
    for (const old of all.slice(0, Math.max(0, all.length - options.keep))) await rm(join(dir, old), { force: true });
    options.logger.info({ file: result.file, bytes: result.bytes }, 'gateway backup taken');
    return result.file;
  }

  /** One backup at a time: the timer and a caller never copy concurrently. */
  const runOnce = (): Promise<string | null> => {
    running ??= takeIfDue().finally(() => {
      running = null;
    });
    return running;
  };
  const tick = () =>
    void runOnce().catch((error: unknown) => options.logger.error({ err: error }, 'gateway backup failed'));
  tick();
  const timer = setInterval(tick, Math.min(options.intervalMs, options.unsyncedIntervalMs ?? Infinity, 3_600_000));
  timer.unref();
  return {
    runOnce,
    async close() {
      clearInterval(timer);
      // The backup uses the gateway's connection: let it finish before the store closes.
      await running?.catch(() => undefined);
    },
  };
}

/** The time in a backup's name, `gateway-YYYYMMDDTHHMMSSZ.db`. */
function stampTime(name: string): number {
  const [, y, mo, d, h, mi, s] = /^gateway-(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/.exec(name)!;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}
