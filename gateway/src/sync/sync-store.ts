import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CustomerRecord, LedgerEvent, PullResponse, PushResponse } from '@tusafishe/protocol';
import {
  REPLICA_COLUMNS,
  REPLICA_PARAMS,
  toRecord,
  toRow,
  type BalanceFollowed,
  type CloudBalance,
  type CustomerReplica,
  type CustomerRow,
} from '../store/customers.js';
import type { Db } from '../store/database.js';
import { commitWithoutSync } from '../store/group-commit.js';
import type { KioskState } from '../store/kiosk-state.js';
import type { Ledger } from '../store/ledger.js';
import type { Store } from '../store/store.js';
import { buildReplica, clearLeftovers, retireStaged } from './replica-rebuild.js';

export interface SyncState {
  cursor: string | null;
  refetching: boolean;
  /** The last staged row once a refetch's feed is exhausted: the new replica is being built from rows up to it. */
  refetchBoundary: number | null;
  lastPullAt: number | null;
  lastPushAt: number | null;
}

interface SyncStateRow {
  cursor: string | null;
  refetching: number;
  refetch_boundary: number | null;
  last_pull_at: number | null;
  last_push_at: number | null;
}

/** Which customers' balances a kiosk follows (ARCHITECTURE §7, _A kiosk's SD card_). */
export interface FollowPolicy {
  kioskId: string;
  /** A customer is followed this long after their last event in the kiosk's ledger (Settings.followCustomersMs). */
  followForMs: number;
}

/** How stale the stored cursor and pull/push times may get (each write is a WAL page). */
const SYNC_STATE_PERSIST_MS = 10 * 60_000;
/** Records of a pulled page staged or applied per turn of the event loop (a page of 2,000 in one turn held it ~150 ms). */
const PAGE_SLICE = 250;

/**
 * The sync worker's durable state on the gateway database. Each page (or acknowledgement with its
 * balances) commits atomically. Outside a refetch, a page moves the cursor in memory; it is
 * written every SYNC_STATE_PERSIST_MS (with whatever commits next) and at close: a crash pulls
 * those pages again, and their records, upserted by version, leave the replica as it was. So the
 * SD card is spared a page of `sync_state` with every page that changes the replica: most pages
 * change nothing (the kiosk's own dispense coming back, already applied from the push answer;
 * another kiosk's customer's balance, not followed).
 * Each call is one short transaction; no I/O happens inside one.
 */
export class SyncStore {
  private readonly replica: CustomerReplica;
  private readonly ledger: Ledger;
  private readonly kioskState: KioskState;
  private readonly readState;
  private readonly writeRefetch;
  private readonly resetCursor;
  private readonly writeState;
  private readonly stage;
  private readonly writeBoundary;
  private readonly stagedAfter;
  private readonly keepBalance;
  private readonly keptBalances;
  private readonly clearBalances;
  private readonly reapplyUnlocks;
  private readonly clearUnlocks;
  private readonly setSize;
  private readonly stagedCount;
  private readonly reject;
  private readonly rejectedCount;
  private readonly rejectedIds;
  private readonly unackedCount;

  private readonly db: Db;
  /** The state as the worker has it (ahead of the row while pages change nothing) and when the row was written. */
  private current: SyncState;
  private storedAt: number | null = null;

  /**
   * Without a `follow` policy every record is written (a kiosk without a cloud pulls nothing);
   * with one, a record changing only an unfollowed customer's balance is not.
   */
  constructor(
    private readonly store: Store,
    private readonly follow?: FollowPolicy,
  ) {
    const db = store.db;
    this.db = db;
    this.replica = store.customers;
    this.ledger = store.ledger;
    this.kioskState = store.kioskState;
    this.readState = db.prepare<[], SyncStateRow>(
      'SELECT cursor, refetching, refetch_boundary, last_pull_at, last_push_at FROM sync_state WHERE id = 1',
    );
    this.writeRefetch = db.prepare<[number]>('UPDATE sync_state SET refetching = ? WHERE id = 1');
    this.resetCursor = db.prepare('UPDATE sync_state SET cursor = NULL WHERE id = 1');
    const columns = REPLICA_COLUMNS.join(', ');
    this.stage = db.prepare(`INSERT INTO sync_incoming (${columns}) VALUES ${REPLICA_PARAMS}`);
    this.writeBoundary = db.prepare<[number | null]>('UPDATE sync_state SET refetch_boundary = ? WHERE id = 1');
    this.stagedAfter = db.prepare<[number], CustomerRow>(
      `SELECT ${columns} FROM sync_incoming WHERE rowid > ? ORDER BY rowid`,
    );
    this.keepBalance = db.prepare(`INSERT INTO sync_refetch_balances
        (account_id, balance_ml, version, has_usage, usage_day, used_today_ml)
      VALUES (@account_id, @balance_ml, @version, @has_usage, @usage_day, @used_today_ml)
      ON CONFLICT (account_id) DO UPDATE SET balance_ml = excluded.balance_ml, version = excluded.version,
        has_usage = excluded.has_usage, usage_day = excluded.usage_day, used_today_ml = excluded.used_today_ml
      WHERE excluded.version >= sync_refetch_balances.version`);
    this.keptBalances = db.prepare<[], KeptBalanceRow>('SELECT * FROM sync_refetch_balances');
    this.clearBalances = db.prepare('DELETE FROM sync_refetch_balances');
    // A technician's unlock during the refetch (`CustomerReplica.clearLockout` keeps it), unless the
    // cloud's record in the new replica is newer than the one unlocked (the cloud locked it again).
    // (The IN list uncorrelated, so each is looked up by key: correlated, it scanned a million rows.)
    this.reapplyUnlocks = db.prepare(`UPDATE customers SET locked_until = NULL
      WHERE account_id IN (SELECT account_id FROM sync_refetch_unlocks) AND locked_until IS NOT NULL
        AND version <= (SELECT version FROM sync_refetch_unlocks u WHERE u.account_id = customers.account_id)`);
    this.clearUnlocks = db.prepare('DELETE FROM sync_refetch_unlocks');
    // The replica's size is kept by triggers on `customers` (migration 703); a built one is counted by the build.
    this.setSize = db.prepare<[number]>('UPDATE replica_size SET customers = ? WHERE id = 1');
    // Staged rows are only appended, and all cleared together: the last rowid counts them without a scan.
    this.stagedCount = db.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM sync_incoming').pluck();
    this.reject = db.prepare(`INSERT OR IGNORE INTO sync_rejected_events (event_id, code, message, rejected_at)
      VALUES (@event_id, @code, @message, @rejected_at)`);
    this.rejectedCount = db.prepare<[], number>('SELECT count(*) FROM sync_rejected_events').pluck();
    this.rejectedIds = db.prepare<[], string>('SELECT event_id FROM sync_rejected_events').pluck();
    // Events above the watermark the cloud did not refuse (seq is the rowid: a range, not a scan).
    this.unackedCount = db
      .prepare<[], number>(`SELECT count(*) FROM ledger_events e WHERE e.seq > (SELECT seq FROM ledger_acked)
        AND e.event_id NOT IN (SELECT event_id FROM sync_rejected_events)`)
      .pluck();
    this.writeState = db.prepare<[string | null, number | null, number | null]>(
      'UPDATE sync_state SET cursor = ?, last_pull_at = ?, last_push_at = ? WHERE id = 1',
    );
    this.current = this.stored();
  }

  private stored(): SyncState {
    const row = this.readState.get() as SyncStateRow;
    return {
      cursor: row.cursor,
      refetching: row.refetching === 1,
      refetchBoundary: row.refetch_boundary,
      lastPullAt: row.last_pull_at,
      lastPushAt: row.last_push_at,
    };
  }

  state(): SyncState {
    return { ...this.current };
  }

  /** Writes the cursor and times kept in memory when asked, or when the stored ones are too old. */
  private persist(at: number, now: boolean): void {
    if (!now && this.storedAt !== null && at >= this.storedAt && at - this.storedAt < SYNC_STATE_PERSIST_MS) return;
    const { cursor, lastPullAt, lastPushAt } = this.current;
    this.writeState.run(cursor, lastPullAt, lastPushAt);
    this.storedAt = at;
  }

  /** Writes what is held in memory only (at close). */
  flush(at: number): void {
    this.persist(at, true);
  }

  /**
   * One pull page: customers upserted by version, cursor advanced, contact recorded. During a
   * refetch the page is staged instead; the last page (`has_more: false`) marks the feed exhausted,
   * and `finishRefetch` builds the new replica from what was staged and swaps it in: exactly what
   * the cloud publishes, whatever the replica held (the cloud's sequence may have restarted). The
   * old replica serves customers until then; pages pulled meanwhile are staged and applied at the swap.
   */
  async applyPage(page: PullResponse, at: number): Promise<void> {
    // A slice at a time, each its own transaction, the event loop given back between them; the last
    // with the cursor. A crash between them pulls the page again: its records are upserted by
    // version, or staged again (the rebuild keeps one record per account and version).
    const { customers } = page;
    for (let from = 0; from + PAGE_SLICE < customers.length; from += PAGE_SLICE) {
      commitWithoutSync(this.db, () => this.take(customers.slice(from, from + PAGE_SLICE), at));
      await nextTurn();
    }
    const last = customers.slice(customers.length - (customers.length % PAGE_SLICE || PAGE_SLICE));
    const before = this.current;
    try {
      // Without an fsync on the event loop: a page lost in a power cut is lost with its cursor
      // (the commit is atomic) and pulled again; the next durable commit syncs it anyway.
      commitWithoutSync(this.db, () => {
        this.take(last, at);
        const { refetching } = this.current;
        this.current = { ...this.current, cursor: page.cursor, lastPullAt: at };
        this.persist(at, refetching);
        if (refetching && !page.has_more && this.current.refetchBoundary === null) {
          const boundary = this.staged();
          this.writeBoundary.run(boundary);
          this.current = { ...this.current, refetchBoundary: boundary };
        }
        this.kioskState.setLastCloudContact(at);
      });
    } catch (error) {
      this.current = before;
      throw error;
    }
  }

  /**
   * Records of a page staged during a refetch, else upserted into the replica.
   * (A refetch swapped in while a page is taken slice by slice: its staged part was applied at the swap.)
   */
  private take(records: readonly CustomerRecord[], at: number): void {
    if (!this.current.refetching) {
      this.replica.applyValidated(records, this.followedAt(at));
      return;
    }
    for (const customer of records) this.stage.run(toRow(customer));
  }

  private followedAt(at: number): BalanceFollowed | undefined {
    const { follow } = this;
    if (!follow) return undefined;
    return (customer) => this.store.followed.follows(customer, follow.kioskId, at - follow.followForMs);
  }

  /**
   * A customer's current record, asked of the cloud for a dispense here: written whatever it
   * changes (their dispense then makes them followed).
   */
  applyLookup(record: CustomerRecord): void {
    commitWithoutSync(this.db, () => {
      this.replica.applyValidated([record]);
      // A replica being rebuilt gets it too, as a pulled record (the old one serves until the swap).
      if (this.current.refetching) this.stage.run(toRow(record));
    });
  }

  /** The cloud invalidated the cursor: pull everything again from the start (see applyPage). */
  startRefetch(at: number): void {
    this.db.transaction(() => {
      // Rows of a refetch in progress are set aside whole and emptied in slices by `finishRefetch`.
      if (this.staged() > 0) retireStaged(this.db);
      this.clearBalances.run();
      this.clearUnlocks.run();
      this.resetCursor.run();
      this.writeRefetch.run(1);
      this.writeBoundary.run(null);
      this.kioskState.setLastCloudContact(at);
    })();
    this.current = { ...this.current, cursor: null, refetching: true, refetchBoundary: null };
  }

  /**
   * Once a refetch's feed is exhausted: builds the new replica beside the old one in short slices
   * (`replica-rebuild.ts`), swaps it in, then clears what the old one and the build leave behind.
   * Without a refetch to finish, only clears leftovers (a gateway stopped mid-build or mid-clear).
   * Resolves false when stopped, or when a new refetch started meanwhile.
   */
  async finishRefetch(signal: AbortSignal): Promise<boolean> {
    const refetching = (): boolean => this.current.refetching;
    const boundary = this.current.refetchBoundary;
    if (!(await clearLeftovers(this.db, signal, refetching))) return false;
    if (boundary === null) return true;
    const still = (): boolean => this.current.refetching && this.current.refetchBoundary === boundary;
    const built = await buildReplica(this.db, boundary, signal, still);
    if (built === false || !still()) return false;
    this.swapIn(boundary, built);
    return clearLeftovers(this.db, signal, refetching);
  }

  /**
   * One short transaction: the built tables take the live names (renames touch only the schema),
   * then what happened while they were built is applied to them: technicians' unlocks (on the cloud's
   * records they were made against), pages pulled after the boundary and the balances of push answers
   * (the staged records may predate those acknowledgements).
   * Holds and unacknowledged events live in their own tables and count against the new replica as
   * they did against the old.
   */
  private swapIn(boundary: number, size: number): void {
    commitWithoutSync(this.db, () => {
      const triggers = this.db
        .prepare<[], { name: string; sql: string }>(
          "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'customers'",
        )
        .all();
      for (const { name } of triggers) this.db.exec(`DROP TRIGGER ${name}`);
      this.db.exec(`ALTER TABLE customers RENAME TO customers_old;
        ALTER TABLE customer_phones RENAME TO customer_phones_old;
        ALTER TABLE customers_next RENAME TO customers;
        ALTER TABLE customer_phones_next RENAME TO customer_phones;`);
      for (const { sql } of triggers) this.db.exec(sql);
      this.setSize.run(size);
      this.reapplyUnlocks.run();
      this.clearUnlocks.run();
      this.replica.applyValidated(this.stagedAfter.all(boundary).map(toRecord));
      this.replica.applyBalances(this.keptBalances.all().map(toCloudBalance));
      this.clearBalances.run();
      this.writeRefetch.run(0);
      this.writeBoundary.run(null);
    });
    this.current = { ...this.current, refetching: false, refetchBoundary: null };
  }

  /** Customers pulled so far by a refetch in progress. */
  staged(): number {
    return this.stagedCount.get() as number;
  }

  /** Oldest unacknowledged events first, leaving out the ones the cloud refused (a handful, if any). */
  pendingBatch(max: number): LedgerEvent[] {
    const rejected = new Set(this.rejectedIds.all());
    return this.ledger
      .unacknowledged(max + rejected.size)
      .filter((event) => !rejected.has(event.event_id))
      .slice(0, max);
  }

  /**
   * Acks, authoritative balances and refusals of one push, together, without an fsync of its own
   * (one fewer durable commit a dispense; bench/RESULTS.md § wear). Safe to lose in a power cut:
   * the commit is atomic, so the gateway comes back with the events unacknowledged and the older
   * balances, which count them once as before (ARCHITECTURE §3); it pushes them again and the
   * cloud, which merges by event id, acknowledges them again. The next durable commit (a
   * dispense's) or checkpoint syncs it anyway.
   */
  applyPushResponse(response: PushResponse, at: number): void {
    const before = this.current;
    try {
      commitWithoutSync(this.db, () => {
        // Refusals first: the watermark moves past them as past the acknowledged events.
        for (const rejection of response.rejected) this.reject.run({ ...rejection, rejected_at: at });
        this.ledger.acknowledge(response.acked);
        this.replica.applyBalances(response.balances);
        // Applied again to the replica a refetch is building, at its swap.
        if (this.current.refetching)
          for (const { account_id, balance_ml, version, ...usage } of response.balances)
            this.keepBalance.run({
              account_id,
              balance_ml,
              version,
              has_usage: usage.used_today_ml === undefined ? 0 : 1,
              usage_day: usage.usage_day ?? null,
              used_today_ml: usage.used_today_ml ?? 0,
            });
        this.current = { ...this.current, lastPushAt: at };
        this.persist(at, false);
        this.kioskState.setLastCloudContact(at);
      });
    } catch (error) {
      this.current = before;
      throw error;
    }
  }

  lastCloudContact(): number | null {
    return this.kioskState.lastCloudContact();
  }

  /** Events waiting to be pushed: not yet in the cloud, the refused ones apart. */
  eventsWaiting(): number {
    return this.unackedCount.get() as number;
  }

  eventsRejected(): number {
    return this.rejectedCount.get() as number;
  }

  replicaSize(): number {
    return this.replica.count();
  }
}

/** A row of `sync_refetch_balances`: a push answer's balance kept for the refetch's swap. */
interface KeptBalanceRow {
  account_id: string;
  balance_ml: number;
  version: number;
  has_usage: number;
  usage_day: string | null;
  used_today_ml: number;
}

function toCloudBalance(row: KeptBalanceRow): CloudBalance {
  const { has_usage, usage_day, used_today_ml, ...balance } = row;
  return has_usage === 1 ? { ...balance, usage_day, used_today_ml } : balance;
}
