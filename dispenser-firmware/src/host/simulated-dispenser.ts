import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { DispenserId, FIRMWARE_RELEASE_PUBLIC_KEY, decodeMessage } from '@tusafishe/protocol';
import { Dispenser, type DispenserStateName } from '../dispenser.js';
import type { FirmwareTimings } from '../firmware-settings.js';
import type { Hal } from '../hal.js';
import { FileStorage } from './file-storage.js';
import { HostFirmwareSlots } from './host-firmware-slots.js';
import { HostClock } from './host-clock.js';
import { MqttJsLink } from './mqtt-js-link.js';
import { VirtualPanel } from './virtual-panel.js';
import { VirtualWaterLine } from './virtual-water-line.js';
import { openControlEndpoint, type ControlEndpoint } from './control-endpoint.js';
import type { DispenserPanel, DispenserPanelView } from './dispenser-panel.js';
import { XsFirmware, xsFirmwareBundle } from './xs-firmware.js';

/** Where the firmware runs: in this Node process, or on Moddable's XS engine in an xsnap worker. */
export type FirmwareEngine = 'node' | 'xs';

export interface SimulatedDispenserOptions {
  /** Dispenser id; also its MQTT username and client id unless `username` says otherwise. */
  id: string;
  username?: string;
  password: string;
  /** The gateway's broker, e.g. `mqtt://127.0.0.1:1883` or `mqtts://kiosk-042.local:8883`. */
  mqttUrl: string;
  /** For `mqtts://`: the fleet CA (PEM) the broker's certificate must chain to. */
  mqttCa?: string | Buffer;
  /** This dispenser's flash: session, pending completions, config, counters, boot image version. Reuse it to "reboot". */
  dataDir: string;
  /** Water through the open valve, mL/s (default 200 ≈ 12 L/min); 0 = dry tank. */
  flowRateMlPerSecond?: number;
  /** The simulated meter's true pulses per litre; by default it matches the gateway's calibration exactly. */
  meterPulsesPerLitre?: number;
  timings?: Partial<FirmwareTimings>;
  /** Open the loopback control endpoint (listed in `<dataDir>/control.json`) for the terminal dispenser. */
  control?: boolean;
  /** Default `node`; `xs` runs the firmware bundle on XS, with this host's simulated hardware. */
  engine?: FirmwareEngine;
  /** The release public key this simulated build trusts for updates (raw Ed25519, base64); default: the fleet's. */
  releasePublicKey?: string;
}

export interface SimulatedDispenser extends DispenserPanel {
  readonly id: string;
  lcd(): string[];
  readonly valveOpen: boolean;
  readonly state: DispenserStateName;
  /** MQTT session to the gateway's broker is up. */
  readonly connected: boolean;
  /** Meter pulses of the current (or last) valve opening. */
  readonly pulses: number;
  /** The XS engine running the firmware (engine `xs`), for its meters and snapshots. */
  readonly xs: XsFirmware | undefined;
  /** Resolves once `predicate` holds (checked every 20 ms); rejects after `timeoutMs` with the LCD in the message. */
  waitFor(predicate: (dispenser: SimulatedDispenser) => boolean, what?: string, timeoutMs?: number): Promise<void>;
  /** Resolves once the LCD shows `text` (on any line, or a regexp over the four lines joined by "\n"). */
  waitForLcd(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Orderly shutdown: valve closed, offline status published, client disconnected. */
  stop(): Promise<void>;
  /** Power cut: nothing more runs, the valve drops closed, the broker sends the last will. Restart from the same dataDir. */
  powerCut(): Promise<void>;
}

const DEFAULT_FLOW_RATE = 200;
const SIMULATED_RSSI_DBM = -58;
const SIMULATED_FREE_HEAP = 142_000;
const CONTROL_FILE = 'control.json';

/** The firmware of one boot, whichever engine runs it. */
interface RunningFirmware {
  readonly state: DispenserStateName;
  readonly connected: boolean;
  readonly pulsesPerLitre: number | undefined;
  /** What stopped the engine unexpectedly, if anything did. */
  readonly failure: Error | undefined;
  /** Resolves once every event so far has been handled. */
  settled(): Promise<void>;
  /** Orderly shutdown of the firmware itself. */
  stop(): Promise<void>;
  /** Power cut: nothing of it runs again. */
  cut(): Promise<void>;
}

/** The firmware in this process: events are handled before the call that caused them returns. */
function nodeFirmware(dispenser: Dispenser): RunningFirmware {
  dispenser.start();
  return {
    get state() {
      return dispenser.state;
    },
    get connected() {
      return dispenser.connected;
    },
    get pulsesPerLitre() {
      return dispenser.config?.pulses_per_litre;
    },
    failure: undefined,
    settled: async () => undefined,
    stop: async () => dispenser.stop(),
    cut: async () => undefined,
  };
}

/** One boot of the simulated board: everything a power cut takes away. */
interface Boot {
  clock: HostClock;
  mqtt: MqttJsLink;
  line: VirtualWaterLine;
  firmware: RunningFirmware;
}

class SimulatedDispenserHost implements SimulatedDispenser {
  readonly id: string;
  readonly #options: SimulatedDispenserOptions;
  readonly #panel = new VirtualPanel();
  readonly #storage: FileStorage;
  #flowRate: number;
  #boot: Boot;
  #control: ControlEndpoint | undefined;
  /** Powered off (stopped or cut) and not rebooted: stop() has nothing left to do. */
  #off = false;

  constructor(
    options: SimulatedDispenserOptions,
    /** The XS firmware bundle, for engine `xs`. */
    private readonly xsBundle: string | undefined,
  ) {
    this.id = options.id;
    this.#options = options;
    this.#storage = new FileStorage(options.dataDir);
    this.#flowRate = options.flowRateMlPerSecond ?? DEFAULT_FLOW_RATE;
    this.#boot = this.#powerOn();
  }

  async openControl(): Promise<void> {
    this.#control = await openControlEndpoint(this, controlFile(this.#options.dataDir));
  }

  #powerOn(): Boot {
    const options = this.#options;
    const clock = new HostClock();
    const mqtt = new MqttJsLink(options.mqttUrl, options.mqttCa);
    const line = new VirtualWaterLine({
      flowRateMlPerSecond: this.#flowRate,
      pulsesPerLitre: () => options.meterPulsesPerLitre ?? firmware.pulsesPerLitre ?? 450,
    });
    const panel = this.#panel;
    const hal: Hal = {
      keypad: panel,
      lcd: panel,
      valve: {
        open: () => {
          line.open();
          panel.changed();
        },
        close: () => {
          line.close();
          panel.changed();
        },
      },
      flow: line,
      clock,
      storage: this.#storage,
      mqtt,
      system: {
        rssiDbm: () => SIMULATED_RSSI_DBM,
        freeHeap: () => SIMULATED_FREE_HEAP,
        randomBytes: (count) => new Uint8Array(randomBytes(count)),
        restart: () => void this.#restart(),
      },
      firmware: new HostFirmwareSlots(
        this.#storage,
        () => !clock.halted,
        options.releasePublicKey ?? FIRMWARE_RELEASE_PUBLIC_KEY,
      ),
    };
    const identity = { id: options.id, username: options.username ?? options.id, password: options.password };
    const firmware: RunningFirmware = this.xsBundle
      ? new XsFirmware(this.xsBundle, hal, identity, options.timings ?? {})
      : nodeFirmware(new Dispenser(hal, identity, options.timings));
    return { clock, mqtt, line, firmware };
  }

  get xs(): XsFirmware | undefined {
    const { firmware } = this.#boot;
    return firmware instanceof XsFirmware ? firmware : undefined;
  }

  async #restart(): Promise<void> {
    await this.#cut();
    this.#boot = this.#powerOn();
    this.#off = false;
  }

  /** Everything of this boot stops without the firmware running another line. */
  async #cut(): Promise<void> {
    this.#off = true;
    const { clock, line, mqtt, firmware } = this.#boot;
    await firmware.cut();
    clock.halt();
    this.#panel.unplug();
    line.close();
    mqtt.cut();
    this.#panel.changed();
    await mqtt.ended();
  }

  lcd(): string[] {
    return this.#panel.lines();
  }

  get valveOpen(): boolean {
    return this.#boot.line.isOpen;
  }

  get state(): DispenserStateName {
    return this.#boot.firmware.state;
  }

  get connected(): boolean {
    return this.#boot.firmware.connected;
  }

  get pulses(): number {
    return this.#boot.line.count();
  }

  press(keys: string): Promise<void> {
    return this.#panel.press(keys).then(() => this.#boot.firmware.settled());
  }

  view(): DispenserPanelView {
    return {
      lcd: this.lcd(),
      valveOpen: this.valveOpen,
      state: this.state,
      connected: this.connected,
      flowRateMlPerSecond: this.#flowRate,
    };
  }

  onChange(listener: () => void): () => void {
    return this.#panel.onChange(listener);
  }

  setFlowRate(mlPerSecond: number): void {
    this.#flowRate = mlPerSecond;
    this.#boot.line.setFlowRate(mlPerSecond);
    this.#panel.changed();
  }

  async waitFor(
    predicate: (dispenser: SimulatedDispenser) => boolean,
    what = 'condition',
    timeoutMs = 5000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const { failure } = this.#boot.firmware;
      if (failure) throw new Error(`${this.id}: the firmware engine failed: ${failure.message}`);
      if (Date.now() > deadline) {
        throw new Error(
          `${this.id}: timed out after ${timeoutMs} ms waiting for ${what}; LCD:\n${this.lcd().join('\n')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  waitForLcd(text: string | RegExp, timeoutMs?: number): Promise<void> {
    const shows = () => {
      const lines = this.lcd();
      return typeof text === 'string' ? lines.some((line) => line.includes(text)) : text.test(lines.join('\n'));
    };
    return this.waitFor(shows, `LCD "${String(text)}"`, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.#control?.close();
    this.#control = undefined;
    if (this.#off) return;
    this.#off = true;
    const { clock, line, mqtt, firmware } = this.#boot;
    await firmware.stop();
    clock.halt();
    line.close();
    this.#panel.unplug();
    await mqtt.ended();
  }

  async powerCut(): Promise<void> {
    await this.#control?.close();
    this.#control = undefined;
    if (!this.#off) await this.#cut();
  }
}

/** Boots a simulated dispenser (host HAL around the real firmware) and connects it to the gateway's broker. */
export async function startSimulatedDispenser(options: SimulatedDispenserOptions): Promise<SimulatedDispenser> {
  mkdirSync(options.dataDir, { recursive: true });
  const xsBundle = options.engine === 'xs' ? await xsFirmwareBundle() : undefined;
  const dispenser = new SimulatedDispenserHost(options, xsBundle);
  if (options.control) await dispenser.openControl();
  return dispenser;
}

/** Where `npm start` keeps each simulated dispenser's flash, under the kiosk's data dir. */
export function simulatedDispenserDataDir(kioskDataDir: string, dispenserId: string): string {
  return join(kioskDataDir, 'dispensers', dispenserId);
}

export function controlFile(dispenserDataDir: string): string {
  return join(dispenserDataDir, CONTROL_FILE);
}

/** The gateway's demo credentials file (DATA_DIR/demo-credentials.json). */
const DemoCredentials = z.object({
  kiosk_id: z.string(),
  dispensers: z.array(z.object({ id: DispenserId, username: z.string(), password: z.string() })),
});
export type DemoCredentials = z.infer<typeof DemoCredentials>;

export function readDemoCredentials(file: string): DemoCredentials {
  const decoded = decodeMessage(DemoCredentials, readFileSync(file, 'utf8'));
  if (!decoded.ok) throw new Error(`${file}: ${decoded.error}`);
  return decoded.value;
}

export interface KioskDispensersOptions {
  /** The kiosk's data dir: credentials are read from `<dataDir>/demo-credentials.json`, flash kept in `<dataDir>/dispensers/<id>`. */
  dataDir: string;
  mqttUrl: string;
  flowRateMlPerSecond?: number;
  /** The release public key their firmware verifies updates with (default: the fleet's). */
  releasePublicKey?: string;
}

/** Every dispenser listed in the demo credentials, each with its control endpoint for the terminal dispenser. */
export async function startKioskDispensers(options: KioskDispensersOptions): Promise<SimulatedDispenser[]> {
  const { dispensers } = readDemoCredentials(join(options.dataDir, 'demo-credentials.json'));
  return Promise.all(
    dispensers.map((credentials) =>
      startSimulatedDispenser({
        ...credentials,
        mqttUrl: options.mqttUrl,
        dataDir: simulatedDispenserDataDir(options.dataDir, credentials.id),
        control: true,
        ...(options.flowRateMlPerSecond === undefined ? {} : { flowRateMlPerSecond: options.flowRateMlPerSecond }),
        ...(options.releasePublicKey === undefined ? {} : { releasePublicKey: options.releasePublicKey }),
      }),
    ),
  );
}
