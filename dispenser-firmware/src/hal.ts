/**
 * The hardware-abstraction layer: everything the dispenser logic touches. The state
 * machine sees only these interfaces, so the same code runs on the ESP32 (src/device)
 * and on the host simulator (src/host).
 */

/** Keys of the 4×4 matrix keypad. */
export type Key = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

const KEYS = '0123456789*#ABCD';

export function isKey(value: string): value is Key {
  return value.length === 1 && KEYS.includes(value);
}

export interface Keypad {
  /** Registers the one listener; called once per key press. */
  onKey(listener: (key: Key) => void): void;
}

/** 20×4 character LCD. */
export interface Lcd {
  /** `lines` always holds LCD_ROWS strings of exactly LCD_COLUMNS characters. */
  show(lines: readonly string[]): void;
}

/** Solenoid valve; closed when unpowered. */
export interface Valve {
  open(): void;
  close(): void;
}

/** Pulse flow meter. */
export interface FlowMeter {
  /** Pulses counted since the last reset. */
  count(): number;
  reset(): void;
  /**
   * Registers the one listener, called as the count rises (on the host once per pulse,
   * on the device per counter interrupt). Closing the valve inside it stops the flow.
   */
  onPulse(listener: (count: number) => void): void;
}

/** An opaque timer, as the runtime's timer API returns it. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch (wall clock, for message timestamps). */
  now(): number;
  after(ms: number, callback: () => void): TimerHandle;
  every(ms: number, callback: () => void): TimerHandle;
  cancel(timer: TimerHandle | undefined): void;
}

/** Small persistent key-value store (flash preferences on the device, files on the host). Writes are durable on return. */
export interface Storage {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  remove(key: string): void;
}

export interface MqttConnectOptions {
  clientId: string;
  username: string;
  password: string;
  keepaliveSeconds: number;
  will: { topic: string; payload: string; qos: 0 | 1; retain: boolean };
}

export interface MqttEvents {
  onConnect(): void;
  onDisconnect(): void;
  onMessage(topic: string, payload: string): void;
}

/**
 * MQTT client. The implementation keeps reconnecting until stop(); the firmware does not
 * rely on PUBACKs (the device client is QoS 0 only) but on the protocol's own replies.
 */
export interface MqttLink {
  start(options: MqttConnectOptions, events: MqttEvents): void;
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): void;
  subscribe(topics: readonly string[]): void;
  /** Graceful: the will is not sent, so publish the offline status first. */
  stop(): void;
}

interface SystemInfo {
  rssiDbm(): number;
  freeHeap(): number;
  /** Random bytes for message ids. */
  randomBytes(count: number): Uint8Array;
  restart(): void;
}

/** An update as the gateway's `ota` command names it (counter and signature: the release's, see firmware-signature.ts). */
export interface FirmwareImage {
  version: string;
  url: string;
  sha256: string;
  size: number;
  counter?: number | undefined;
  signature?: string | undefined;
}

/** The running firmware image and the inactive slot an update is written to. */
export interface FirmwareSlots {
  /** Version of the image running now. */
  running(): string;
  /**
   * True when `signature` (Ed25519, base64) over `text` is from the release key built into
   * this firmware (native on the device, as hashing is; node:crypto in the simulator).
   */
  verify(text: string, signature: string): boolean;
  /**
   * Downloads into the inactive slot, checks size and SHA-256 and only then makes it the
   * image to boot next. `done` runs once: no argument on success, else why it failed (the
   * running image stays the boot image, so a bad download or a power cut never bricks).
   */
  install(image: FirmwareImage, done: (error?: string) => void): void;
}

export interface Hal {
  keypad: Keypad;
  lcd: Lcd;
  valve: Valve;
  flow: FlowMeter;
  clock: Clock;
  storage: Storage;
  mqtt: MqttLink;
  system: SystemInfo;
  firmware: FirmwareSlots;
}
