/**
 * Real gateway processes among the fleet (`gateway/src/main.ts`, as fleet/ runs them): each
 * pulls the whole million-customer replica first, then takes part like any kiosk — six
 * dispensers authorising over MQTT and completing (the gateway pushes its own events) — while
 * the driver watches each gateway's own SQLite for every top-up.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, DemoCredentials, Store, type SyncStatus } from '@tusafishe/gateway';
import { TestDispenser } from '@tusafishe/gateway/testing';
import type { AuthApproved } from '@tusafishe/protocol';
import { GatewayProcess } from '@tusafishe/fleet/gateway-process';
import { accountId, BENCH_PIN, phoneOf } from './database.js';
import { Histogram } from './histogram.js';

const WATCH_EVERY_MS = 20;

export interface RealGatewayOptions {
  dir: string;
  cloudUrl: string;
  kiosks: { id: string; secret: string }[];
  customers: number;
  lastVersion: number;
  /** The gateways' FOLLOW_BALANCES: with `all` every top-up is written, and the driver watches each one arrive. */
  followBalances: 'own' | 'all';
  progress: (line: string) => void;
}

interface Running {
  process: GatewayProcess;
  dispensers: TestDispenser[];
  store?: Store;
  /** Top-up index → confirmed at, not yet held by this gateway. */
  waiting: Map<number, number>;
}

export class RealGateways {
  topup = new Histogram();
  errors = 0;
  readonly errorSamples: string[] = [];
  replicaS = 0;
  private readonly running: Running[] = [];
  private watcher: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: RealGatewayOptions) {}

  get pids(): number[] {
    return this.running.flatMap((gateway) => (gateway.process.pid ? [gateway.process.pid] : []));
  }

  get count(): number {
    return this.running.length;
  }

  /** Starts the gateways and resolves once each holds the full replica at the cloud's version. */
  async start(): Promise<void> {
    const started = Date.now();
    await Promise.all(
      this.options.kiosks.map(async ({ id, secret }) => {
        const gateway = new GatewayProcess({
          kioskId: id,
          dataDir: join(this.options.dir, id),
          env: {
            CLOUD_URL: this.options.cloudUrl,
            KIOSK_SECRET: secret,
            SEED_DEMO: 'true',
            LOG_LEVEL: 'warn',
            HW_MODE: 'off',
            FOLLOW_BALANCES: this.options.followBalances,
          },
          readyTimeoutMs: 120_000,
        });
        this.running.push({ process: gateway, dispensers: [], waiting: new Map() });
        await gateway.start();
        await this.untilReplicated(gateway);
      }),
    );
    this.replicaS = (Date.now() - started) / 1000;
    for (const gateway of this.running) {
      const demo = DemoCredentials.parse(
        JSON.parse(await readFile(join(gateway.process.dataDir, 'demo-credentials.json'), 'utf8')),
      );
      gateway.dispensers = await Promise.all(
        ['D1', 'D2', 'D3', 'D4', 'D5', 'D6'].map((id) =>
          TestDispenser.connect({ mqttPort: gateway.process.mqttPort, demo }, id),
        ),
      );
      gateway.store = new Store(
        new Database(join(gateway.process.dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true }),
      );
    }
  }

  private async untilReplicated(gateway: GatewayProcess): Promise<void> {
    const deadline = Date.now() + 600_000;
    let last = 0;
    for (;;) {
      const status = await gateway.json<SyncStatus>('/api/sync').catch(() => undefined);
      if (status && status.replica_size >= this.options.customers && Number(status.cursor) >= this.options.lastVersion)
        return;
      if (status && status.replica_size - last >= 100_000) {
        last = status.replica_size;
        this.options.progress(`${gateway.kioskId}: replica ${status.replica_size.toLocaleString('en')}`);
      }
      if (Date.now() > deadline) throw new Error(`${gateway.kioskId}: replica not complete after 10 min`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** Six dispensers per gateway, each serving a customer every `everyMs` (random phase). */
  dispense(everyMs: number, dispensing: number): void {
    for (const gateway of this.running)
      for (const dispenser of gateway.dispensers) {
        const tick = (): void => {
          void this.serve(dispenser, 1 + Math.floor(Math.random() * dispensing));
          this.schedule(tick, everyMs);
        };
        this.schedule(tick, Math.random() * everyMs);
      }
  }

  private schedule(run: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private async serve(dispenser: TestDispenser, index: number): Promise<void> {
    const ml = 1000 * (1 + Math.floor(Math.random() * 20));
    try {
      const answer = await dispenser.authorise(dispenser.request(phoneOf(index, false), ml, BENCH_PIN));
      if (!answer.approved) return this.error(`gateway denied ${phoneOf(index, false)}: ${answer.reason}`);
      await dispenser.complete(dispenser.completion(answer as AuthApproved, ml));
    } catch (error) {
      this.error(`dispense: ${(error as Error).message}`);
    }
  }

  stopDispensing(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private error(what: string): void {
    this.errors += 1;
    if (this.errorSamples.length < 10) this.errorSamples.push(what);
  }

  /** From now on, measure top-up arrival at each gateway. */
  watch(): void {
    clearInterval(this.watcher);
    this.topup = new Histogram();
    this.errors = 0;
    this.errorSamples.length = 0;
    this.watcher = setInterval(() => {
      for (const gateway of this.running) {
        for (const [index, confirmedAt] of gateway.waiting) {
          const customer = gateway.store?.customers.findByAccount(accountId(index));
          if (customer && customer.balance_ml > 0) {
            this.topup.record(Date.now() - confirmedAt);
            gateway.waiting.delete(index);
          }
        }
      }
    }, WATCH_EVERY_MS);
  }

  confirmed(index: number, at: number): void {
    for (const gateway of this.running) gateway.waiting.set(index, at);
  }

  /** Top-ups some gateway has not received yet. */
  get missing(): number {
    return this.running.reduce((sum, gateway) => sum + gateway.waiting.size, 0);
  }

  async close(): Promise<void> {
    this.stopDispensing();
    clearInterval(this.watcher);
    await Promise.all(
      this.running.map(async (gateway) => {
        await Promise.all(gateway.dispensers.map((d) => d.close().catch(() => undefined)));
        gateway.store?.db.close();
        await gateway.process.close();
      }),
    );
  }
}
