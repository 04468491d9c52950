import { Counter, Gauge, type Registry } from 'prom-client';
import type { SyncStatus } from './sync-status.js';

/** What the worker reports as it goes; gauges read the status on each scrape. */
export interface SyncMetrics {
  pulled(customers: number): void;
  pushed(events: number): void;
  failed(operation: 'pull' | 'push'): void;
  skipped(records: number): void;
}

const seconds = (ms: number | null): number => (ms === null ? 0 : ms / 1000);

/** Registers the `tusafishe_sync_*` metrics on the gateway's registry. */
export function createSyncMetrics(registry: Registry, status: () => SyncStatus): SyncMetrics {
  // One status read serves all gauges of a scrape.
  let cached: { at: number; value: SyncStatus } | null = null;
  const current = (): SyncStatus => {
    if (cached === null || Date.now() - cached.at > 250) cached = { at: Date.now(), value: status() };
    return cached.value;
  };
  const gauge = (name: string, help: string, read: (s: SyncStatus) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(current()));
      },
    });
  };
  gauge('tusafishe_sync_enabled', '1 when CLOUD_URL is configured', (s) => Number(s.enabled));
  gauge('tusafishe_sync_online', '1 when the latest cloud request succeeded', (s) => Number(s.online));
  gauge('tusafishe_sync_offline_limit_active', '1 when the offline daily limit applies', (s) =>
    Number(s.offline_limit_active),
  );
  gauge('tusafishe_sync_last_contact_timestamp_seconds', 'Last successful cloud contact (0: never)', (s) =>
    seconds(s.last_contact_at),
  );
  gauge('tusafishe_sync_last_pull_timestamp_seconds', 'Last applied pull page (0: never)', (s) =>
    seconds(s.last_pull_at),
  );
  gauge('tusafishe_sync_last_push_timestamp_seconds', 'Last acknowledged push (0: never)', (s) =>
    seconds(s.last_push_at),
  );
  gauge('tusafishe_sync_events_waiting', 'Ledger events not yet acknowledged by the cloud', (s) => s.events_waiting);
  gauge('tusafishe_sync_events_rejected', 'Ledger events the cloud refused', (s) => s.events_rejected);
  gauge('tusafishe_sync_replica_customers', 'Customers in the local replica', (s) => s.replica_size);

  const pulled = new Counter({
    name: 'tusafishe_sync_pulled_customers_total',
    help: 'Customer records applied from pulls',
    registers: [registry],
  });
  const pushed = new Counter({
    name: 'tusafishe_sync_pushed_events_total',
    help: 'Ledger events acknowledged by the cloud',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'tusafishe_sync_failures_total',
    help: 'Failed cloud requests',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'tusafishe_sync_skipped_records_total',
    help: "Pulled customer records the gateway's schema refused (skipped, the rest of the page applied)",
    registers: [registry],
  });
  return {
    skipped: (n) => skipped.inc(n),
    pulled: (n) => pulled.inc(n),
    pushed: (n) => pushed.inc(n),
    failed: (operation) => failures.inc({ operation }),
  };
}
