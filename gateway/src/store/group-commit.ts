import { closeSync, fdatasync, openSync } from 'node:fs';
import { GatewayError } from '../errors.js';
import type { Db } from './database.js';
import type { StorageGuard } from './storage-guard.js';

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Makes every write-ahead-log frame written so far durable. */
export interface WalSync {
  (): Promise<void>;
  close(): void;
}

/**
 * fdatasync of `<db>-wal` on libuv's thread pool, so the event loop never waits on the
 * disk. The file is opened once: SQLite keeps the same WAL file while its connection is open.
 */
export function walSync(db: Db): WalSync {
  let fd: number | undefined;
  let inFlight = 0;
  let closing = false;
  const release = () => {
    if (closing && inFlight === 0 && fd !== undefined) {
      closeSync(fd);
      fd = undefined;
    }
  };
  const sync = () =>
    new Promise<void>((resolve, reject) => {
      fd ??= openSync(`${db.name}-wal`, 'r');
      inFlight++;
      fdatasync(fd, (error) => {
        inFlight--;
        release();
        if (error) reject(error);
        else resolve();
      });
    });
  return Object.assign(sync, {
    close: () => {
      closing = true;
      release();
    },
  });
}

/**
 * Group commit for the dispense flow. Writes queued in the same turn of the event loop
 * share one transaction, each in its own savepoint (a failing one rolls back alone).
 * The transaction commits with synchronous=NORMAL and the WAL is then fdatasync'ed off
 * the main thread; promises settle only after that sync, which is exactly the
 * guarantee synchronous=FULL gives (WAL synced at commit) without blocking every
 * MQTT message and PIN check behind the disk. Other writes keep synchronous=FULL.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly sync: WalSync = walSync(db),
    private readonly guard?: Pick<StorageGuard, 'state' | 'noteWriteError' | 'noteSyncFailure'>,
  ) {}

  /** Releases the WAL file; writes still queued are rejected. */
  close(): void {
    for (const pending of this.queue.splice(0)) pending.reject(new Error('store closed'));
    this.sync.close();
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (this.guard?.state === 'failed') {
      // After a failed fsync nothing written can be known durable: refuse rather than ack.
      const refused = new GatewayError('STORAGE_FAILED');
      for (const pending of batch) pending.reject(refused);
      return;
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      commitWithoutSync(this.db, () => {
        for (const pending of batch) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(pending.work)() });
          } catch (error) {
            this.guard?.noteWriteError(error);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The commit failed (e.g. SQLITE_FULL): nothing of the batch was written.
      this.guard?.noteWriteError(error);
      for (const pending of batch) pending.reject(error);
      return;
    }
    try {
      await this.sync();
    } catch (error) {
      // Committed but not known durable: never acknowledged, and the write path shuts (fsync errors are not retried).
      this.guard?.noteSyncFailure(error);
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  }
}

/**
 * Runs `work` in one transaction committed with synchronous=NORMAL: atomic, but on disk only
 * once the WAL is next synced (by the next synchronous=FULL commit, the group commit's
 * fdatasync or a checkpoint). For writes that are safe to lose in a power cut, or synced after.
 */
export function commitWithoutSync<T>(db: Db, work: () => T): T {
  const previous = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('synchronous = NORMAL');
  try {
    return db.transaction(work)();
  } finally {
    db.pragma(`synchronous = ${previous}`);
  }
}
