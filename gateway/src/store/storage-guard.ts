import { EventEmitter } from 'node:events';
import { closeSync, existsSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './database.js';

/**
 * `ok`; `full`: a write failed with SQLITE_FULL (new dispenses are refused until space is
 * freed); `failed`: an fsync of the write-ahead log failed, so nothing written since can be
 * known durable: the write path stays shut until the gateway restarts.
 */
export type StorageState = 'ok' | 'full' | 'failed';

const STORAGE_RESERVE_FILE = 'storage-reserve';
/** Kept free for the gateway itself: released on a full disk so pruning and a checkpoint can run. */
const RESERVE_BYTES = 1024 * 1024;
const RETRY_MS = 30_000;
const PRUNE_STEP = 2000;
const DAY_MS = 86_400_000;
/** Below this much free space after pruning the disk still counts as full. */
const MIN_FREE_BYTES = 256 * 1024;

export function isDiskFull(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_FULL';
}

/**
 * Watches the gateway's storage and frees space when the disk fills. A reserve file
 * (`DATA_DIR/storage-reserve`, 1 MB) is held while there is room; on SQLITE_FULL it is
 * released, readings and authorisation decisions older than a day are pruned (never the
 * ledger or holds: nothing acknowledged is touched) and the WAL is checkpointed and
 * truncated. The state is `ok` again once the file system has room; until then this
 * retries every 30 s. The reserve is taken again once there is room for it twice over.
 */
export class StorageGuard extends EventEmitter<{ change: [state: StorageState, detail: string] }> {
  private current: StorageState = 'ok';
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.keepReserve();
    this.timer = setInterval(() => this.tick(), RETRY_MS).unref();
  }

  get state(): StorageState {
    return this.current;
  }

  /** A write failed: SQLITE_FULL makes the store full (and starts freeing space). */
  noteWriteError(error: unknown): void {
    if (!isDiskFull(error) || this.current !== 'ok') return;
    this.set('full', String((error as Error).message));
    // Not now: the failed write's transaction is still open, and a checkpoint needs none.
    setImmediate(() => this.freeSpace());
  }

  /** The WAL could not be synced: fatal for the write path until restart. */
  noteSyncFailure(error: unknown): void {
    this.set('failed', String((error as Error)?.message ?? error));
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Releases the reserve, prunes what may go, checkpoints; `ok` once the file system has room. */
  freeSpace(): void {
    if (this.current !== 'full') return;
    rmSync(join(this.dataDir, STORAGE_RESERVE_FILE), { force: true });
    this.checkpoint();
    // Readings are a convenience (charts): the older half goes, in small steps so each delete fits in the
    // room there is, the WAL truncated after each. Decisions older than a day are past any retry.
    const readings = this.db.prepare('SELECT count(*) FROM hardware_readings').pluck().get() as number;
    const shed = this.db.prepare(
      'DELETE FROM hardware_readings WHERE id IN (SELECT id FROM hardware_readings ORDER BY id LIMIT ?)',
    );
    for (let left = Math.floor(readings / 2); left > 0; ) {
      const deleted = this.attempt(() => shed.run(Math.min(PRUNE_STEP, left)).changes);
      if (!deleted) break;
      left -= deleted;
      this.checkpoint();
    }
    this.attempt(() => this.db.prepare('DELETE FROM auth_decisions WHERE decided_at < ?').run(this.now() - DAY_MS));
    this.checkpoint();
    if (this.freeBytes() >= MIN_FREE_BYTES) this.set('ok', 'space freed');
  }

  /** Runs a write; undefined when there is still no room for it (the next tick tries again). */
  private attempt<T>(write: () => T): T | undefined {
    try {
      return write();
    } catch {
      return undefined;
    }
  }

  private checkpoint(): void {
    this.attempt(() => this.db.pragma('wal_checkpoint(TRUNCATE)'));
  }

  private tick(): void {
    if (this.current === 'full') this.freeSpace();
    else if (this.current === 'ok') this.keepReserve();
  }

  private freeBytes(): number {
    const stats = statfsSync(this.dataDir);
    return stats.bavail * stats.bsize;
  }

  /** Takes the reserve when it is missing and fits twice over (it must not itself fill the disk). */
  private keepReserve(): void {
    const path = join(this.dataDir, STORAGE_RESERVE_FILE);
    if (existsSync(path) || this.freeBytes() < 2 * RESERVE_BYTES) return;
    let fd: number | undefined;
    try {
      fd = openSync(path, 'w');
      writeSync(fd, Buffer.alloc(RESERVE_BYTES));
    } catch {
      rmSync(path, { force: true });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private set(state: StorageState, detail: string): void {
    if (this.current === state || this.current === 'failed') return;
    this.current = state;
    this.emit('change', state, detail);
  }
}
