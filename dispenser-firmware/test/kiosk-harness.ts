import { expect, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayOptions } from '@tusafishe/gateway';
import { demoPassword, startTestGateway, type TestGateway } from '@tusafishe/gateway/testing';
import {
  startSimulatedDispenser,
  type FirmwareEngine,
  type SimulatedDispenser,
  type SimulatedDispenserOptions,
} from '../src/host/simulated-dispenser.js';

/** A real gateway (broker, SQLite ledger, seeded demo data) and simulated dispensers against it. */
export class KioskHarness {
  readonly dispensers: SimulatedDispenser[] = [];

  private constructor(
    public gateway: TestGateway,
    readonly dir: string,
    /** Where the dispensers' firmware runs: Node, or Moddable's XS engine. */
    readonly engine: FirmwareEngine,
  ) {}

  /** `extensions` adds gateway parts (e.g. firmware updates) as `startGateway`'s option does. */
  static async start(
    extensions?: GatewayOptions['extensions'],
    engine: FirmwareEngine = 'node',
  ): Promise<KioskHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'tusafishe-fw-'));
    const gateway = await startTestGateway({
      dataDir: join(dir, 'gateway'),
      keepDataDir: true,
      ...(extensions ? { extensions } : {}),
    });
    return new KioskHarness(gateway, dir, engine);
  }

  /** Boots (or reboots, reusing its flash) a simulated dispenser; fast water so tests stay short. */
  async dispenser(id = 'D1', options: Partial<SimulatedDispenserOptions> = {}): Promise<SimulatedDispenser> {
    const dispenser = await startSimulatedDispenser({
      id,
      password: demoPassword(this.gateway, id),
      mqttUrl: `mqtt://127.0.0.1:${this.gateway.mqttPort}`,
      dataDir: join(this.dir, 'dispensers', id),
      flowRateMlPerSecond: 2000,
      timings: { completeRetryMs: 500 },
      engine: this.engine,
      ...options,
    });
    this.dispensers.push(dispenser);
    return dispenser;
  }

  /** Restarts the gateway on the same data dir and MQTT port, as after a gateway reboot. */
  async restartGateway(): Promise<void> {
    const { mqttPort } = this.gateway;
    this.gateway = await startTestGateway({ dataDir: join(this.dir, 'gateway'), keepDataDir: true, mqttPort });
  }

  /** Dispense events for a demo customer, newest last. */
  dispenses(phone: string): { amount_ml: number; source_id?: string | undefined }[] {
    const customer = this.gateway.store.customers.findByPhone(phone);
    if (!customer) throw new Error(`no customer ${phone}`);
    return this.gateway.store.ledger.eventsFor(customer.account_id).filter((event) => event.type === 'dispense');
  }

  async close(): Promise<void> {
    await Promise.all(this.dispensers.map((dispenser) => dispenser.stop().catch(() => undefined)));
    await this.gateway.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Waits until `check` returns true (vi.waitFor). At least 30 s whatever the caller asks:
 * a test waits on events, and a loaded machine delivers them late.
 */
export async function eventually(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  await vi.waitFor(() => expect(check(), what).toBe(true), { timeout: Math.max(timeoutMs, 30_000), interval: 20 });
}
