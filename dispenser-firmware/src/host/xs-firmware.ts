import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod/mini';
import type { DispenserStateName } from '../dispenser.js';
import type { DispenserIdentity, FirmwareTimings } from '../firmware-settings.js';
import type { Hal, Key, TimerHandle } from '../hal.js';
import type { FirmwareView, HalOp, HalResult, HostEvent, MqttEventIds } from '../xs/hal-messages.js';
import { XS_ENTRY, bundleFirmware } from './firmware-bundle.js';
import { XsWorker, XsWorkerError } from './xs-worker.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

let bundlePath: Promise<string> | undefined;

/**
 * The firmware bundle for XS (src/xs/xs-main.ts, built with the device build's esbuild
 * options), written once per content to the temp dir: concurrent test processes write the
 * same bytes and rename atomically, so none reads a half-written file.
 */
export function xsFirmwareBundle(): Promise<string> {
  bundlePath ??= bundleFirmware(XS_ENTRY, 'dispenser-xs.js').then(({ code }) => {
    const path = join(tmpdir(), `tusafishe-xs-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`);
    if (!existsSync(path)) {
      const partial = `${path}.${process.pid}.tmp`;
      writeFileSync(partial, code);
      renameSync(partial, path);
    }
    return path;
  });
  return bundlePath;
}

const HalCall = z.tuple([z.string()], z.unknown());

/**
 * The dispenser firmware running on Moddable's XS engine (an xsnap worker process) with the
 * host's hardware: each HAL call of the firmware arrives here and is carried out on `hal`;
 * each hardware event (key, pulse, timer, MQTT) goes to the engine as one crank, in order.
 */
export class XsFirmware {
  readonly #worker: XsWorker;
  readonly #hal: Hal;
  readonly #ops: Record<HalOp, (...args: never[]) => unknown>;
  readonly #timers = new Map<number, TimerHandle>();
  #view: FirmwareView = { state: 'offline', connected: false, pulsesPerLitre: undefined };
  #powered = true;
  #failure: Error | undefined;
  /** The last event sent: events run in order, so once it is handled all before it are. */
  #last: Promise<void> = Promise.resolve();

  constructor(bundle: string, hal: Hal, identity: DispenserIdentity, timings: Partial<FirmwareTimings>) {
    this.#hal = hal;
    this.#ops = this.#halOps();
    this.#worker = new XsWorker({ onQuery: (message) => this.#query(message) });
    this.#worker.importModule(bundle).catch((error: Error) => this.#failed(error));
    void this.#event({ type: 'boot', identity, timings });
    void this.#worker.exited.then((error) => {
      if (this.#powered) this.#failed(error);
    });
  }

  get worker(): XsWorker {
    return this.#worker;
  }

  get state(): DispenserStateName {
    return this.#view.state;
  }

  get connected(): boolean {
    return this.#view.connected;
  }

  get pulsesPerLitre(): number | undefined {
    return this.#view.pulsesPerLitre;
  }

  /** What stopped the engine unexpectedly (an uncaught error, an exit), if anything did. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Resolves once every event sent so far has been handled by the firmware. */
  settled(): Promise<void> {
    return this.#last;
  }

  /** Orderly: the firmware closes the valve and says goodbye, then the engine ends. */
  async stop(): Promise<void> {
    await this.#event({ type: 'stop' });
    this.#powered = false;
    await this.#worker.close().catch(() => undefined);
  }

  /** Power cut: the engine process is killed wherever it is. */
  async cut(): Promise<void> {
    this.#powered = false;
    for (const timer of this.#timers.values()) this.#hal.clock.cancel(timer);
    this.#timers.clear();
    await this.#worker.kill();
  }

  /** One crank: the event handled and its promise jobs run; the firmware's view kept. */
  #event(event: HostEvent): Promise<void> {
    if (!this.#powered) return Promise.resolve();
    this.#last = this.#worker.command(encoder.encode(JSON.stringify(event))).then(
      ({ reply }) => {
        this.#view = JSON.parse(decoder.decode(reply)) as FirmwareView;
      },
      (error: Error) => {
        if (this.#powered) this.#failed(error);
      },
    );
    return this.#last;
  }

  #callback(id: number, ...args: unknown[]): Promise<void> {
    return this.#event({ type: 'callback', id, args });
  }

  #failed(error: Error): void {
    this.#failure ??= error;
  }

  #query(message: Uint8Array): Uint8Array {
    let result: HalResult;
    try {
      const [op, ...args] = HalCall.parse(JSON.parse(decoder.decode(message)));
      const run = this.#ops[op as HalOp];
      if (!run) throw new XsWorkerError(`unknown HAL operation ${op}`);
      result = { value: (run as (...values: unknown[]) => unknown)(...args) };
    } catch (error) {
      result = { error: error instanceof Error ? error.message : String(error) };
    }
    return encoder.encode(JSON.stringify(result));
  }

  /** Each HAL operation on the host's hardware; callbacks come back as events. */
  #halOps(): Record<HalOp, (...args: never[]) => unknown> {
    const { clock, firmware, flow, keypad, lcd, mqtt, storage, system, valve } = this.#hal;
    return {
      'keypad.onKey': (id: number) => keypad.onKey((key: Key) => this.#callback(id, key)),
      'lcd.show': (lines: string[]) => lcd.show(lines),
      'valve.open': () => valve.open(),
      'valve.close': () => valve.close(),
      'flow.count': () => flow.count(),
      'flow.reset': () => flow.reset(),
      // The returned promise holds the simulated meter's next pulse until the firmware has
      // handled this one, as a listener running inline would (closing the valve stops the flow).
      'flow.onPulse': (id: number) => flow.onPulse((count) => this.#callback(id, count)),
      'clock.now': () => clock.now(),
      'clock.after': (ms: number, id: number) =>
        void this.#timers.set(
          id,
          clock.after(ms, () => {
            this.#timers.delete(id);
            void this.#callback(id);
          }),
        ),
      'clock.every': (ms: number, id: number) =>
        void this.#timers.set(
          id,
          clock.every(ms, () => void this.#callback(id)),
        ),
      'clock.cancel': (id: number) => {
        clock.cancel(this.#timers.get(id));
        this.#timers.delete(id);
      },
      'storage.get': (key: string) => storage.get(key),
      'storage.set': (key: string, value: string) => storage.set(key, value),
      'storage.remove': (key: string) => storage.remove(key),
      'mqtt.start': (options: Parameters<Hal['mqtt']['start']>[0], ids: MqttEventIds) =>
        mqtt.start(options, {
          onConnect: () => void this.#callback(ids.connect),
          onDisconnect: () => void this.#callback(ids.disconnect),
          onMessage: (topic, payload) => void this.#callback(ids.message, topic, payload),
        }),
      'mqtt.publish': (topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }) =>
        mqtt.publish(topic, payload, options),
      'mqtt.subscribe': (topics: string[]) => mqtt.subscribe(topics),
      'mqtt.stop': () => mqtt.stop(),
      'system.rssiDbm': () => system.rssiDbm(),
      'system.freeHeap': () => system.freeHeap(),
      'system.randomBytes': (count: number) => Array.from(system.randomBytes(count)),
      'system.restart': () => system.restart(),
      'firmware.running': () => firmware.running(),
      'firmware.verify': (text: string, signature: string) => firmware.verify(text, signature),
      'firmware.install': (image: Parameters<Hal['firmware']['install']>[0], id: number) =>
        firmware.install(image, (error) => void this.#callback(id, ...(error === undefined ? [] : [error]))),
    };
  }
}
