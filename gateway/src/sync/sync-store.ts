import type { LedgerEvent, PullResponse, PushResponse } from '@tusafishe/protocol';
import type { CustomerReplica } from '../store/customers.js';
import type { Db } from '../store/database.js';
import type { KioskState } from '../store/kiosk-state.js';
import type { Ledger } from '../store/ledger.js';
import type { Store } from '../store/store.js';

export interface SyncState {
  cursor: string | null;
  refetching: boolean;
  lastPullAt: number | null;
  lastPushAt: number | null;
}

interface SyncStateRow {
  cursor: string | null;
  refetching: number;
  last_pull_at: number | null;
  last_push_at: number | null;
}

/** How stale the stored cursor and pull/push times may get while pages change nothing (each write is a WAL page). */
const SYNC_STATE_PERSIST_MS = 10 * 60_000;

/**
 * The sync worker's durable state on the gateway database. Every change of the replica
 * and the cursor (or of acknowledgements and balances) commits together, so a crash at
 * any point resumes exactly: a page is applied with its cursor or not at all.
 * A page that changes nothing (the kiosk's own dispense coming back, already applied from the
 * push answer) moves the cursor in memory only, written with the next page that changes
 * something, every SYNC_STATE_PERSIST_MS, or at close: a crash re-pulls pages that change
 * nothing, so the replica ends the same, and the SD card is spared a commit per pull.
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
  private readonly markSeen;
  private readonly dropNewer;
  private readonly sweepUnseen;
  private readonly clearSeen;
  private readonly reject;
  private readonly rejectedCount;
  private readonly rejectedIds;
  private readonly unackedCount;

  private readonly db: Db;
  /** The state as the worker has it (ahead of the row while pages change nothing) and when the row was written. */
  private current: SyncState;
  private storedAt: number | null = null;

  constructor(store: Store) {
    const db = store.db;
    this.db = db;
    this.replica = store.customers;
    this.ledger = store.ledger;
    this.kioskState = store.kioskState;
    this.readState = db.prepare<[], SyncStateRow>(
      'SELECT cursor, refetching, last_pull_at, last_push_at FROM sync_state WHERE id = 1',
    );
    this.writeRefetch = db.prepare<[number]>('UPDATE sync_state SET refetching = ? WHERE id = 1');
    this.resetCursor = db.prepare('UPDATE sync_state SET cursor = NULL WHERE id = 1');
    this.markSeen = db.prepare<[string]>('INSERT OR IGNORE INTO sync_refetch_seen (account_id) VALUES (?)');
    this.dropNewer = db.prepare<[string, number]>('DELETE FROM customers WHERE account_id = ? AND version > ?');
    this.sweepUnseen = db.prepare(
      'DELETE FROM customers WHERE account_id NOT IN (SELECT account_id FROM sync_refetch_seen)',
    );
    this.clearSeen = db.prepare('DELETE FROM sync_refetch_seen');
    this.reject = db.prepare(`INSERT OR IGNORE INTO sync_rejected_events (event_id, code, message, rejected_at)
      VALUES (@event_id, @code, @message, @rejected_at)`);
    this.rejectedCount = db
      .prepare<[], number>(
        'SELECT count(*) FROM sync_rejected_events r JOIN ledger_events e USING (event_id) WHERE e.acked_at IS NULL',
      )
      .pluck();
    this.rejectedIds = db
      .prepare<[], string>(
        'SELECT r.event_id FROM sync_rejected_events r JOIN ledger_events e USING (event_id) WHERE e.acked_at IS NULL',
      )
      .pluck();
    this.unackedCount = db.prepare<[], number>('SELECT count(*) FROM ledger_events WHERE acked_at IS NULL').pluck();
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
   * One pull page: customers upserted by version, cursor advanced, contact recorded.
   * During a refetch the page is authoritative even over newer-looking rows (the cloud's
   * sequence may have restarted), and the last page drops accounts the cloud no longer
   * publishes. The replica stays usable for dispensing throughout.
   */
  applyPage(page: PullResponse, at: number): void {
    const before = this.current;
    try {
      this.db.transaction(() => {
        const { refetching } = this.current;
        if (refetching) {
          for (const customer of page.customers) {
            this.dropNewer.run(customer.account_id, customer.version);
            this.markSeen.run(customer.account_id);
          }
        }
        const changed = this.replica.applyRecords(page.customers);
        this.current = { ...this.current, cursor: page.cursor, lastPullAt: at };
        this.persist(at, refetching || changed > 0);
        if (refetching && !page.has_more) {
          this.sweepUnseen.run();
          this.clearSeen.run();
          this.writeRefetch.run(0);
          this.current = { ...this.current, refetching: false };
        }
        this.kioskState.setLastCloudContact(at);
      })();
    } catch (error) {
      this.current = before;
      throw error;
    }
  }

  /** The cloud invalidated the cursor: pull everything again from the start (see applyPage). */
  startRefetch(at: number): void {
    this.db.transaction(() => {
      this.clearSeen.run();
      this.resetCursor.run();
      this.writeRefetch.run(1);
      this.kioskState.setLastCloudContact(at);
    })();
    this.current = { ...this.current, cursor: null, refetching: true };
  }

  /** Oldest unacknowledged events first, leaving out the ones the cloud refused. */
  pendingBatch(max: number): LedgerEvent[] {
    const rejected = new Set(this.rejectedIds.all());
    return this.ledger
      .unacknowledged(max + rejected.size)
      .filter((event) => !rejected.has(event.event_id))
      .slice(0, max);
  }

  /** Acks, authoritative balances and refusals of one push, together. */
  applyPushResponse(response: PushResponse, at: number): void {
    const before = this.current;
    try {
      this.db.transaction(() => {
        this.ledger.markAcknowledged(response.acked, at);
        this.replica.applyBalances(response.balances);
        for (const rejection of response.rejected) this.reject.run({ ...rejection, rejected_at: at });
        this.current = { ...this.current, lastPushAt: at };
        this.persist(at, false);
        this.kioskState.setLastCloudContact(at);
      })();
    } catch (error) {
      this.current = before;
      throw error;
    }
  }

  lastCloudContact(): number | null {
    return this.kioskState.lastCloudContact();
  }

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
