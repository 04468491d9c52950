import type { GatewayExtension } from '../extension.js';
import type { GatewayCore } from '../gateway.js';
import type { SyncSource } from '../ui-api/kiosk-port.js';
import { createSyncMetrics, type SyncMetrics } from './sync-metrics.js';
import type { SyncStatus } from './sync-status.js';
import { startSync, type SyncWorker } from './sync.js';

/**
 * Cloud sync as a gateway extension: `tusafishe_sync_*` on the gateway's `/metrics` from the
 * start; the worker (configured from CLOUD_URL, KIOSK_SECRET, … in `env`) runs from `start()` to
 * `stop()`. Its `status()` serves the technician API's `GET /api/sync`.
 */
export class SyncExtension implements GatewayExtension, SyncSource {
  readonly name = 'sync';
  readonly #core: GatewayCore;
  readonly #env: NodeJS.ProcessEnv;
  readonly #metrics: SyncMetrics;
  #worker: SyncWorker | null = null;

  constructor(core: GatewayCore, env: NodeJS.ProcessEnv) {
    this.#core = core;
    this.#env = { ...env, KIOSK_ID: core.kioskId };
    this.#metrics = createSyncMetrics(core.metrics, () => this.status());
  }

  async start(): Promise<void> {
    const core = this.#core;
    this.#worker = startSync({
      store: core.store,
      env: this.#env,
      settings: core.settings,
      logger: core.logger.child({ module: 'sync' }),
      events: core.events,
      metrics: this.#metrics,
      clock: core.clock,
    });
    const { lookup } = this.#worker;
    if (lookup) core.dispenseFlow.useCustomerLookup(lookup);
  }

  async stop(): Promise<void> {
    this.#core.dispenseFlow.useCustomerLookup(null);
    await this.#worker?.close();
  }

  /** The latest worker's status (after `stop()`, as it stood then). */
  status(): SyncStatus {
    if (!this.#worker) throw new Error('sync has not been started');
    return this.#worker.status();
  }

  nudge(): void {
    this.#worker?.nudge();
  }
}
