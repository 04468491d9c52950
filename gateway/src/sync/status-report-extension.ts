import type { GatewayExtension } from '../extension.js';
import type { EventScope } from '../events.js';
import { FleetRollout } from '../firmware/fleet-rollout.js';
import type { FirmwareUpdates } from '../firmware/firmware-routes.js';
import type { GatewayCore } from '../gateway.js';
import type { HardwareSnapshot } from '../hardware/hardware-snapshot.js';
import { AuthCounts } from './auth-counts.js';
import { createCloudClient } from './cloud-client.js';
import { readStatusIntervalMs, readSyncConfig } from './sync-config.js';
import type { SyncStatus } from './sync-status.js';
import { startStatusReports, type StatusReports } from './status-report.js';

/** Where dispensers fetch images without GATEWAY_PUBLIC_URL: the address HTTP is bound to (not a wildcard). */
function listeningUrl(core: GatewayCore): string | undefined {
  const address = core.http.server.address();
  if (!address || typeof address === 'string' || ['0.0.0.0', '::'].includes(address.address)) return undefined;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${core.https ? 'https' : 'http'}://${host}:${address.port}`;
}

export interface StatusReportParts {
  sync: { status(): SyncStatus };
  hardware: { snapshot(): HardwareSnapshot } | null;
  firmware: FirmwareUpdates;
}

/**
 * The kiosk status as a gateway extension (sync/README.md, "Kiosk status"): from `start()` to
 * `stop()` it counts authorisations by hour and, with CLOUD_URL set, sends the status with the
 * sync and runs the fleet firmware rollout the cloud names.
 */
export class StatusReportExtension implements GatewayExtension {
  readonly name = 'status-report';
  readonly #authCounts: AuthCounts;
  #listeners: EventScope | null = null;
  #reports: StatusReports | null = null;

  constructor(
    private readonly core: GatewayCore,
    private readonly env: NodeJS.ProcessEnv,
    private readonly parts: StatusReportParts,
  ) {
    this.#authCounts = new AuthCounts(core.store.db);
  }

  async start(): Promise<void> {
    const { core, parts } = this;
    const listeners = core.events.scope();
    this.#listeners = listeners;
    this.#authCounts.listen(listeners);
    const config = readSyncConfig({ ...this.env, KIOSK_ID: core.kioskId });
    if (!config.enabled) return;
    const client = createCloudClient(config.config);
    const fleet = new FleetRollout({
      gateway: core,
      events: listeners,
      images: parts.firmware.images,
      rollouts: parts.firmware.rollouts,
      download: (sha256) => client.firmware(sha256),
      dispenserBaseUrl: () => parts.firmware.publicUrl ?? listeningUrl(core),
      logger: core.logger.child({ module: 'fleet-rollout' }),
      onProgress: () => this.#reports?.soon(),
    });
    this.#reports = startStatusReports({
      store: core.store,
      client,
      sync: parts.sync,
      hardware: parts.hardware,
      authCounts: this.#authCounts,
      fleet,
      intervalMs: readStatusIntervalMs(this.env),
      logger: core.logger.child({ module: 'status-report' }),
    });
  }

  async stop(): Promise<void> {
    this.#listeners?.dispose();
    this.#listeners = null;
    await this.#reports?.close();
    this.#reports = null;
    try {
      this.#authCounts.flush();
    } catch (error) {
      // A full or failed disk at stop: the counts in memory go (the ledger holds every dispense).
      this.core.logger.warn({ err: error }, 'authorisation counts not written at stop');
    }
  }
}
