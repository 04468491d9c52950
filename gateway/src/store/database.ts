import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { GatewayError } from '../errors.js';

export type Db = Database.Database;

export const DATABASE_FILE = 'gateway.db';
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const MIGRATION_FILE = /^(\d{3})-[a-z0-9-]+\.sql$/;

/**
 * Number ranges, so parts can add migrations without colliding:
 * 001–099 gateway core, 100–199 hardware readings/alerts, 200–299 sync state,
 * 300–399 technicians/UI, 400–499 firmware, 500–549 kiosk status report and fleet rollouts,
 * 600–699 keypad tokens, 700–709 the replica at a million customers (issue 14),
 * 710–719 fewer SD-card writes.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const match = MIGRATION_FILE.exec(name);
      return match ? [{ version: Number(match[1]), name, sql: readFileSync(join(dir, name), 'utf8') }] : [];
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * 1 KB pages (SQLite's default is 4 KB): a commit writes every b-tree page it touches into the WAL,
 * and a dispense's three commits touch ~14 pages, each holding a row or an index entry of a few
 * hundred bytes. Smaller pages halve the SD-card writes per dispense (bench/RESULTS.md § wear).
 */
export const PAGE_SIZE = 1024;
/**
 * Checkpoint at ~16 MB of WAL: a page written by many commits (the ledger's last leaves, its
 * indexes, the open holds) is copied into the file once per checkpoint, and each copy dirties a 4 KB
 * block of the card: those copies fell by a quarter to 60 % from 4,000 pages (bench/RESULTS.md
 * § wear). The WAL file keeps that size; the wal-index grows by 8 KB per 1,000 pages.
 */
const WAL_AUTOCHECKPOINT_PAGES = 16_000;

/**
 * Opens DATA_DIR/gateway.db with WAL and synchronous=FULL: a commit is on disk
 * before the dispenser is told its completion is recorded (a power cut after the
 * acknowledgement loses nothing).
 */
export function openDatabase(dataDir: string, migrationsDir = MIGRATIONS_DIR): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DATABASE_FILE));
  usePageSize(db, PAGE_SIZE);
  db.pragma('journal_mode = WAL');
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  applyMigrations(db, listMigrations(migrationsDir));
  return db;
}

/**
 * A new file takes `size` before its first page is written. An older file is rebuilt once with
 * VACUUM, which cannot change the page size of a WAL database: it runs in rollback-journal mode,
 * atomic (a crash or a full disk during it leaves the file as it was). If it cannot run (another
 * connection open, no room for the copy), the file keeps its pages and works as before; the next
 * open tries again.
 */
function usePageSize(db: Db, size: number): void {
  if (db.pragma('page_size', { simple: true }) === size) return;
  const isNew = db.pragma('page_count', { simple: true }) === 0;
  db.pragma(`page_size = ${size}`);
  if (isNew) return;
  try {
    // SQLite answers the mode kept when another connection holds the file in WAL mode.
    if (db.pragma('journal_mode = DELETE', { simple: true }) === 'delete') db.exec('VACUUM');
  } catch {
    // Kept as it is (see above); openDatabase's caller can read `PRAGMA page_size`.
  }
}

/** Applies the migrations not yet recorded, in numeric order, all in one transaction. */
export function applyMigrations(db: Db, migrations: readonly Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const pending = migrations.filter((m) => !applied.has(m.version));
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const migration of pending) {
      try {
        db.exec(migration.sql);
      } catch (error) {
        throw new GatewayError('MIGRATION_FAILED', migration.name, (error as Error).message);
      }
      record.run(migration.version, migration.name, Date.now());
    }
  })();
  return pending.map((m) => m.version);
}
