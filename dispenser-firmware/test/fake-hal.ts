import { randomBytes, sign, verify } from 'node:crypto';
import { generateReleaseKey, releasePublicKey } from '@tusafishe/protocol/signed-firmware';
import {
  firmwareSigningText,
  type FirmwareRelease,
  type DispenserConfig,
  dispenserTopic,
  type DispenserInboundLeaf,
  type DispenserOutboundLeaf,
} from '@tusafishe/protocol';
import type {
  Clock,
  FirmwareImage,
  FlowMeter,
  Hal,
  Key,
  MqttConnectOptions,
  MqttEvents,
  MqttLink,
  Storage,
  TimerHandle,
  Valve,
} from '../src/hal.js';

const TEST_RELEASE = generateReleaseKey();
const TEST_RELEASE_KEY = releasePublicKey(TEST_RELEASE.publicKey);

/** An `ota` command's release fields, signed by the key the fake firmware trusts. */
export function signedOta<F extends FirmwareRelease>(fields: F): F & { signature: string } {
  const text = Buffer.from(firmwareSigningText(fields));
  return { ...fields, signature: sign(null, text, TEST_RELEASE.privateKeyPem).toString('base64') };
}

/** A clock that only moves when the test says so. */
class FakeClock implements Clock {
  time = 1_764_000_000_000;
  #next = 1;
  readonly #timers = new Map<number, { at: number; every?: number; callback: () => void }>();

  now(): number {
    return this.time;
  }
  after(ms: number, callback: () => void): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, callback });
    return id;
  }
  every(ms: number, callback: () => void): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, every: ms, callback });
    return id;
  }
  cancel(timer: TimerHandle | undefined): void {
    if (typeof timer === 'number') this.#timers.delete(timer);
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.time = timer.at;
      if (timer.every) timer.at += timer.every;
      else this.#timers.delete(id);
      timer.callback();
    }
    this.time = end;
  }
}

class FakeWaterLine implements Valve, FlowMeter {
  isOpen = false;
  #count = 0;
  #listener: (count: number) => void = () => undefined;
  open(): void {
    this.isOpen = true;
  }
  close(): void {
    this.isOpen = false;
  }
  count(): number {
    return this.#count;
  }
  reset(): void {
    this.#count = 0;
  }
  onPulse(listener: (count: number) => void): void {
    this.#listener = listener;
  }
  /** Water flows only through an open valve. */
  flow(pulses: number): void {
    for (let i = 0; i < pulses && this.isOpen; i++) this.#listener(++this.#count);
  }
}

export class MemoryStorage implements Storage {
  readonly values = new Map<string, string>();
  get(key: string): string | undefined {
    return this.values.get(key);
  }
  set(key: string, value: string): void {
    this.values.set(key, value);
  }
  remove(key: string): void {
    this.values.delete(key);
  }
}

class FakeMqtt implements MqttLink {
  options: MqttConnectOptions | undefined;
  events: MqttEvents | undefined;
  readonly published: { topic: string; payload: string; qos: 0 | 1; retain: boolean }[] = [];
  subscriptions: string[] = [];
  start(options: MqttConnectOptions, events: MqttEvents): void {
    this.options = options;
    this.events = events;
  }
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): void {
    this.published.push({ topic, payload, ...options });
  }
  subscribe(topics: readonly string[]): void {
    this.subscriptions.push(...topics);
  }
  stop(): void {
    this.events?.onDisconnect();
  }
}

export const TEST_CONFIG: DispenserConfig = {
  kiosk_id: 'K1',
  pulses_per_litre: 450,
  presets_ml: [5000, 10000, 20000],
  max_ml: 20000,
  no_flow_timeout_ms: 5000,
  enabled: true,
};

/** The firmware's hardware, every part observable and steerable from a test. */
export class FakeHal implements Hal {
  readonly clock = new FakeClock();
  readonly line = new FakeWaterLine();
  readonly storage: MemoryStorage;
  readonly mqtt = new FakeMqtt();
  screen: readonly string[] = [];
  restarts = 0;
  #keyListener: (key: Key) => void = () => undefined;
  readonly keypad = { onKey: (listener: (key: Key) => void) => void (this.#keyListener = listener) };
  readonly lcd = { show: (lines: readonly string[]) => void (this.screen = lines) };
  readonly valve = this.line;
  readonly flow = this.line;
  readonly system = {
    rssiDbm: () => -60,
    freeHeap: () => 100_000,
    randomBytes: (count: number) => new Uint8Array(randomBytes(count)),
    restart: () => void this.restarts++,
  };
  /** Installs finish when the test calls `finishInstall`; signatures are checked against TEST_RELEASE's key. */
  readonly firmware = {
    running: () => 'tusafishe-fw/0.1.0',
    verify: (text: string, signature: string) =>
      verify(null, Buffer.from(text), TEST_RELEASE_KEY, Buffer.from(signature, 'base64')),
    install: (image: FirmwareImage, done: (error?: string) => void) => void (this.installing = { image, done }),
  };
  installing: { image: FirmwareImage; done: (error?: string) => void } | undefined;

  constructor(
    readonly id = 'D1',
    storage = new MemoryStorage(),
  ) {
    this.storage = storage;
  }

  press(keys: string): void {
    for (const key of keys) this.#keyListener(key as Key);
  }
  text(): string {
    return this.screen.join('\n');
  }
  connect(config: DispenserConfig = TEST_CONFIG): void {
    this.mqtt.events?.onConnect();
    this.deliver('config', config);
  }
  disconnect(): void {
    this.mqtt.events?.onDisconnect();
  }
  deliver(leaf: DispenserInboundLeaf, message: unknown): void {
    this.mqtt.events?.onMessage(dispenserTopic(this.id, leaf), JSON.stringify(message));
  }
  /** Messages the firmware published on one of its leaves, decoded. */
  sent(leaf: DispenserOutboundLeaf): Record<string, unknown>[] {
    const topic = dispenserTopic(this.id, leaf);
    return this.mqtt.published
      .filter((p) => p.topic === topic)
      .map((p) => JSON.parse(p.payload) as Record<string, unknown>);
  }
  lastSent(leaf: DispenserOutboundLeaf): Record<string, unknown> {
    const all = this.sent(leaf);
    const last = all[all.length - 1];
    if (!last) throw new Error(`nothing sent on ${leaf}`);
    return last;
  }
}
