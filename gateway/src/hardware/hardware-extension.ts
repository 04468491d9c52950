import type { onRequestHookHandler } from 'fastify';
import type { GatewayExtension } from '../extension.js';
import type { GatewayCore } from '../gateway.js';
import type { StorageState } from '../store/storage-guard.js';
import { alertLedgerEvent } from './alerts/alert-ledger-event.js';
import { hardwareRoutes, type HardwareApi } from './api/hardware-routes.js';
import { hardwareConfigFromEnv, type HardwareConfig } from './config.js';
import type { HardwareSnapshot } from './hardware-snapshot.js';
import { startKioskHardware, type KioskHardware } from './kiosk-hardware.js';
import type { ReadingPoint, SeriesQuery } from './readings/readings-store.js';
import { registerHardwareMetrics } from './readings/hardware-metrics.js';
import type { Condition } from './rules/kiosk-rules.js';

export interface HardwareExtensionOptions {
  /** Whether the cloud answered recently (e.g. `() => sync.status().online`). */
  isCloudReachable(): boolean;
  /** Guard for `/api/hardware*`, e.g. the technician API's `technicianGuard(core.store.db)`. */
  onRequest?: onRequestHookHandler;
  /** Conditions of the gateway outside the hardware (e.g. its networks), alerted with the kiosk's own. */
  extraConditions?: () => Condition[];
}

/**
 * The kiosk hardware as a gateway extension: config from the HW_* env vars; `/api/hardware*`
 * (behind `onRequest` when given) and `tusafishe_hw_*` on `/metrics` registered when built. From
 * `start()` to `stop()` the devices run, readings go to the gateway's database, alerts are
 * appended to the ledger as `alert_raised`/`alert_cleared` notices (the sync path takes them to
 * the cloud) and the interlock is consulted before every dispense; `stop()` turns the pump and UV
 * relays off.
 */
export class HardwareExtension implements GatewayExtension, HardwareApi {
  readonly name = 'hardware';
  #hardware: KioskHardware | null = null;
  #removeInterlock: (() => void) | null = null;

  private constructor(
    private readonly core: GatewayCore,
    private readonly config: HardwareConfig,
    private readonly options: HardwareExtensionOptions,
  ) {}

  /** Null when HW_MODE=off. */
  static async create(
    core: GatewayCore,
    env: NodeJS.ProcessEnv,
    options: HardwareExtensionOptions,
  ): Promise<HardwareExtension | null> {
    const config = hardwareConfigFromEnv(env);
    if (config.mode === 'off') {
      core.logger.warn(
        { module: 'hardware' },
        'HW_MODE=off: no kiosk hardware (no tank, UV or water-quality interlocks)',
      );
      return null;
    }
    const extension = new HardwareExtension(core, config, options);
    await core.http.register(hardwareRoutes, { hardware: extension, onRequest: options.onRequest });
    registerHardwareMetrics(core.metrics, () => extension.snapshot());
    return extension;
  }

  /** The running hardware (its simulation in simulated mode). */
  get hardware(): KioskHardware {
    if (!this.#hardware) throw new Error('kiosk hardware has not been started');
    return this.#hardware;
  }

  async start(): Promise<void> {
    const { core } = this;
    const hardware = await startKioskHardware(this.config, {
      db: core.store.db,
      logger: core.logger.child({ module: 'hardware' }),
      kioskId: core.kioskId,
      isCloudReachable: this.options.isCloudReachable,
      onAlert: (change) => core.store.ledger.append(alertLedgerEvent(change, core.kioskId)),
      extraConditions: () => [
        ...storageConditions(core.store.storage?.state ?? 'ok'),
        ...(this.options.extraConditions?.() ?? []),
      ],
    });
    this.#hardware = hardware;
    this.#removeInterlock = core.interlocks.add(hardware.interlock);
  }

  async stop(): Promise<void> {
    this.#removeInterlock?.();
    this.#removeInterlock = null;
    await this.#hardware?.close();
  }

  snapshot(): HardwareSnapshot {
    return this.hardware.snapshot();
  }

  series(query: SeriesQuery): ReadingPoint[] | undefined {
    return this.hardware.series(query);
  }

  sensorIds(): string[] {
    return this.hardware.sensorIds();
  }
}

/** The gateway's storage as an alert: critical, texted to technicians when the cloud is out of reach. */
function storageConditions(state: StorageState): Condition[] {
  if (state === 'ok') return [];
  const message =
    state === 'full'
      ? 'Gateway disk full: new dispenses refused while space is freed'
      : 'Gateway storage failed (fsync): dispenses refused until restart';
  return [{ key: `storage_${state}`, severity: 'critical', message, details: { state } }];
}
