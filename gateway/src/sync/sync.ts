import type { Registry } from 'prom-client';
import { observingServerTime, type KioskClock } from '../clock.js';
import type { GatewayEvents } from '../events.js';
import type { Logger } from '../logger.js';
import type { Settings } from '../settings.js';
import type { Store } from '../store/store.js';
import { readSyncConfig } from './sync-config.js';
import { createSyncMetrics, type SyncMetrics } from './sync-metrics.js';
import { readSyncStatus, type SyncStatus } from './sync-status.js';
import { SyncStore } from './sync-store.js';
import { startSyncWorker, type SyncWorker, type SyncWorkerOptions } from './sync-worker.js';

export interface StartSyncOptions {
  store: Store;
  /** CLOUD_URL, KIOSK_ID, KIOSK_SECRET, SYNC_PAGE_SIZE, SYNC_LONG_POLL_S (see README.md). */
  env: NodeJS.ProcessEnv;
  settings: Pick<Settings, 'offlineAfterMs' | 'followBalances' | 'followCustomersMs' | 'customerLookupTimeoutMs'>;
  logger: Logger;
  events?: GatewayEvents;
  /** The gateway's Prometheus registry; `tusafishe_sync_*` metrics are added to it. */
  registry?: Registry;
  /** Or metrics already on it (a worker started again reports to the same ones). */
  metrics?: SyncMetrics;
  /** The kiosk clock: contacts are stamped in its trusted time, and every cloud answer's `Date` anchors it. */
  clock?: KioskClock;
  /** Tests only. */
  fetch?: typeof fetch;
  backoff?: SyncWorkerOptions['backoff'];
}

/**
 * The one entry the gateway wires in: reads the sync env, starts the worker (or, without
 * CLOUD_URL, a stand-in that reports sync as disabled), and registers its metrics.
 */
export function startSync(options: StartSyncOptions): SyncWorker {
  const config = readSyncConfig(options.env);
  let status: () => SyncStatus;
  const metrics = options.metrics ?? (options.registry && createSyncMetrics(options.registry, () => status()));
  if (!config.enabled) {
    options.logger.warn(config.reason);
    const store = new SyncStore(options.store);
    const live = {
      enabled: false,
      disabledReason: config.reason,
      kioskId: null,
      cloudUrl: null,
      online: false,
      lastError: null,
      recordsSkipped: 0,
      skippedRecords: [],
    };
    status = () => readSyncStatus(store, live, options.settings.offlineAfterMs, Date.now());
    return { status: () => status(), nudge: () => undefined, close: async () => undefined };
  }
  const worker = startSyncWorker({
    store: options.store,
    config: config.config,
    offlineAfterMs: options.settings.offlineAfterMs,
    ...(options.settings.followBalances === 'own' && {
      following: {
        followForMs: options.settings.followCustomersMs,
        lookupTimeoutMs: options.settings.customerLookupTimeoutMs,
      },
    }),
    logger: options.logger,
    ...(options.events && { events: options.events }),
    ...(metrics && { metrics }),
    ...(options.clock
      ? { now: options.clock.now, fetch: observingServerTime(options.fetch ?? fetch, options.clock) }
      : options.fetch && { fetch: options.fetch }),
    ...(options.backoff && { backoff: options.backoff }),
  });
  status = worker.status;
  return worker;
}

export type { SyncWorker } from './sync-worker.js';
