import { SyncExtension, type GatewayCore, type GatewayExtension, type GatewayOptions } from '@tusafishe/gateway';
import { startTestGateway, TestDispenser, type TestGateway } from '@tusafishe/gateway/testing';
import type { RunningCloud } from '../src/cloud.js';
import { createKiosk } from '../src/kiosks/kiosks.js';

export interface SyncedKiosk {
  gateway: TestGateway;
  /** Dispenser D1 of the gateway, on its broker. */
  dispenser: TestDispenser;
}

export interface SyncedKioskOptions {
  settings?: GatewayOptions['settings'];
  /** Runs on the gateway's core with its sync extension (e.g. registers the technicians' API). */
  setUp?: (core: GatewayCore, sync: SyncExtension) => Promise<void>;
}

/**
 * Real gateways syncing with one cloud over HTTP, each with a dispenser D1 on its MQTT broker:
 * what the cloud's cross-kiosk tests stand on. `add` creates the kiosk in the cloud and starts
 * its gateway with the kiosk's secret; `close` stops everything it started.
 */
export class SyncedKiosks {
  private readonly gateways: TestGateway[] = [];
  private readonly dispensers: TestDispenser[] = [];

  constructor(private readonly cloud: () => RunningCloud) {}

  async add(kioskId: string, options: SyncedKioskOptions = {}): Promise<SyncedKiosk> {
    const cloud = this.cloud();
    const { secret } = await createKiosk(cloud.db, { kioskId });
    const gateway = await startTestGateway({
      kioskId,
      ...(options.settings ? { settings: options.settings } : {}),
      extensions: async (core): Promise<GatewayExtension[]> => {
        const sync = new SyncExtension(core, { CLOUD_URL: cloud.url, KIOSK_SECRET: secret });
        await options.setUp?.(core, sync);
        return [sync];
      },
    });
    this.gateways.push(gateway);
    const dispenser = await TestDispenser.connect(gateway, 'D1');
    this.dispensers.push(dispenser);
    return { gateway, dispenser };
  }

  async close(): Promise<void> {
    await Promise.all(this.dispensers.splice(0).map((dispenser) => dispenser.close()));
    await Promise.all(this.gateways.splice(0).map((gateway) => gateway.close()));
  }
}
