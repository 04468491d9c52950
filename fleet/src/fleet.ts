import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startCloud, type CloudOptions, type RunningCloud, createKiosk } from '@tusafishe/cloud';
import { FileStorage, startSimulatedDispenser, type SimulatedDispenser } from '@tusafishe/dispenser-firmware/host';
import type { SyncStatus } from '@tusafishe/gateway';
import { GatewayProcess } from './gateway-process.js';
import { startPartitionProxy, type PartitionProxy } from './partition-proxy.js';

export interface FleetKiosk {
  id: string;
  proxy: PartitionProxy;
  gateway: GatewayProcess;
  dispensers: Map<string, SimulatedDispenser>;
  /** Reboots a dispenser on the same flash (after its gateway moved or a power cut). */
  dispenserDataDir(id: string): string;
  syncStatus(): Promise<SyncStatus>;
}

export interface FleetOptions {
  dir: string;
  kioskIds: readonly string[];
  dispenserIds: readonly string[];
  /** Gateway settings and anything else for every gateway process. */
  gatewayEnv: Record<string, string>;
  flowRateMlPerSecond: number;
  /** Extra cloud options (payment simulators, polling). */
  cloud?: CloudOptions;
  /** The release key the simulated dispensers trust for updates (raw Ed25519, base64); default: the fleet's. */
  releasePublicKey?: string;
}

export interface Fleet {
  cloud: RunningCloud;
  kiosks: FleetKiosk[];
  close(): Promise<void>;
}

/** Dispenser flash counters: what the dispenser itself measured and delivered. */
export function dispenserCounters(dataDir: string): { dispenses: number; delivered_ml: number; pending: number } {
  const storage = new FileStorage(dataDir);
  const counters = JSON.parse(storage.get('counters') ?? '{"dispenses":0,"delivered_ml":0}') as {
    dispenses: number;
    delivered_ml: number;
  };
  const pending = JSON.parse(storage.get('pending') ?? '[]') as unknown[];
  return { dispenses: counters.dispenses, delivered_ml: counters.delivered_ml, pending: pending.length };
}

/**
 * The real cloud (in process, embedded Postgres), one real gateway process per kiosk whose
 * only way to the cloud is its own partition proxy, and simulated dispensers on each gateway's broker.
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const cloud = await startCloud({
    port: 0,
    logger: false,
    ...options.cloud,
    rateLimits: { requestsPerKioskPerMinute: 100_000 },
  });
  const kiosks: FleetKiosk[] = [];
  try {
    await Promise.all(
      options.kioskIds.map(async (id) => {
        const { secret } = await createKiosk(cloud.db, { kioskId: id });
        const proxy = await startPartitionProxy({ host: '127.0.0.1', port: cloud.port });
        const dataDir = join(options.dir, id);
        await mkdir(dataDir, { recursive: true });
        const gateway = new GatewayProcess({
          kioskId: id,
          dataDir,
          env: { ...options.gatewayEnv, CLOUD_URL: proxy.url, KIOSK_SECRET: secret, SEED_DEMO: 'true' },
        });
        kiosks.push({
          id,
          proxy,
          gateway,
          dispensers: new Map(),
          dispenserDataDir: (dispenserId) => join(options.dir, `${id}-dispensers`, dispenserId),
          syncStatus: () => gateway.json<SyncStatus>('/api/sync'),
        });
      }),
    );
    kiosks.sort((a, b) => a.id.localeCompare(b.id));
    // One at a time: tsx start-up is CPU-heavy on a small machine.
    for (const kiosk of kiosks) await kiosk.gateway.start();
    for (const kiosk of kiosks) {
      const credentials = JSON.parse(readFileSync(join(kiosk.gateway.dataDir, 'demo-credentials.json'), 'utf8')) as {
        dispensers: { id: string; username: string; password: string }[];
      };
      for (const dispenserId of options.dispenserIds) {
        const credential = credentials.dispensers.find((d) => d.id === dispenserId);
        if (!credential) throw new Error(`${kiosk.id} has no dispenser ${dispenserId}`);
        const dispenser = await startSimulatedDispenser({
          ...credential,
          mqttUrl: kiosk.gateway.mqttUrl,
          dataDir: kiosk.dispenserDataDir(dispenserId),
          flowRateMlPerSecond: options.flowRateMlPerSecond,
          ...(options.releasePublicKey ? { releasePublicKey: options.releasePublicKey } : {}),
          timings: {
            messageMs: 300,
            completeRetryMs: 500,
            authRetryMs: 1000,
            authTimeoutMs: 6000,
            entryTimeoutMs: 10_000,
          },
        });
        kiosk.dispensers.set(dispenserId, dispenser);
      }
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  async function closeAll(): Promise<void> {
    for (const kiosk of kiosks) {
      await Promise.all([...kiosk.dispensers.values()].map((d) => d.stop().catch(() => undefined)));
      await kiosk.gateway.close().catch(() => undefined);
      await kiosk.proxy.close();
    }
    await cloud.close();
  }

  return { cloud, kiosks, close: closeAll };
}
