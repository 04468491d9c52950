import type { SkippedRecord } from './cloud-client.js';
import type { SyncStore } from './sync-store.js';

/** What `GET /api/sync` answers and the metrics report (issue 5 §2). */
export interface SyncStatus {
  enabled: boolean;
  /** Why sync is off, when it is. */
  disabled_reason: string | null;
  kiosk_id: string | null;
  cloud_url: string | null;
  /** The latest request to the cloud succeeded. */
  online: boolean;
  /** No cloud contact within the offline threshold: the offline daily limit applies. */
  offline_limit_active: boolean;
  last_contact_at: number | null;
  last_pull_at: number | null;
  last_push_at: number | null;
  /** Ledger events not yet acknowledged by the cloud (refused ones excluded). */
  events_waiting: number;
  /** Events the cloud refused; kept for operators, never pushed again. */
  events_rejected: number;
  replica_size: number;
  cursor: string | null;
  refetching: boolean;
  /** Customers a refetch (or the first replica) has pulled so far; they replace the replica when it ends. */
  refetch_pulled: number;
  last_error: { code: string; message: string; at: number } | null;
  /** Customer records this gateway's schema refused since it started; the rest of their pages was applied. */
  records_skipped: number;
  /** The latest of them (at most SKIPPED_SHOWN), newest last. */
  skipped_records: Array<SkippedRecord & { at: number }>;
}

/** How many skipped records the status keeps to show. */
export const SKIPPED_SHOWN = 20;

export interface LiveSyncFacts {
  enabled: boolean;
  disabledReason: string | null;
  kioskId: string | null;
  cloudUrl: string | null;
  online: boolean;
  lastError: SyncStatus['last_error'];
  recordsSkipped: number;
  skippedRecords: SyncStatus['skipped_records'];
}

/** Durable facts from the store plus the worker's in-memory ones. */
export function readSyncStatus(store: SyncStore, live: LiveSyncFacts, offlineAfterMs: number, now: number): SyncStatus {
  const state = store.state();
  const lastContact = store.lastCloudContact();
  const rejected = store.eventsRejected();
  return {
    enabled: live.enabled,
    disabled_reason: live.disabledReason,
    kiosk_id: live.kioskId,
    cloud_url: live.cloudUrl,
    online: live.online,
    offline_limit_active: lastContact === null || now - lastContact > offlineAfterMs,
    last_contact_at: lastContact,
    last_pull_at: state.lastPullAt,
    last_push_at: state.lastPushAt,
    events_waiting: store.eventsWaiting(),
    events_rejected: rejected,
    replica_size: store.replicaSize(),
    cursor: state.cursor,
    refetching: state.refetching,
    refetch_pulled: state.refetching ? store.staged() : 0,
    last_error: live.lastError,
    records_skipped: live.recordsSkipped,
    skipped_records: [...live.skippedRecords],
  };
}
