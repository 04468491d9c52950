import { EventEmitter } from 'node:events';
import type { HardwareConfig } from '../config.js';
import type { BinaryValue, GpioChip, GpioLine } from './gpio-line.js';

/**
 * Logical inputs, true meaning: float raised by water (`tankLowFloat`,
 * `tankHighFloat`), door open, UV ballast reports a fault, feed source dry.
 * Wiring polarity is handled by `inputsActiveLow`, not here.
 */
export interface KioskInputs {
  tankLowFloat: boolean;
  tankHighFloat: boolean;
  doorOpen: boolean;
  /** Undefined when no fault contact is fitted. */
  uvFault: boolean | undefined;
  /** Undefined when no source switch is fitted. */
  sourceLow: boolean | undefined;
}

export interface KioskOutputs {
  pumpOn: boolean;
  uvLampOn: boolean;
}

type InputName = keyof KioskInputs;
export type LineName = InputName | keyof KioskOutputs;
const INPUT_NAMES: readonly InputName[] = ['tankLowFloat', 'tankHighFloat', 'doorOpen', 'uvFault', 'sourceLow'];

/**
 * What an input whose line cannot be read (a hardware fault) is taken to say: whatever
 * stops water or the pump. Low float dry (TANK_LOW), high float up and source dry (pump
 * off), ballast fault (UV_FAULT); the door reads closed, its fault being an alert of its own.
 */
const FAIL_SAFE: Record<InputName, boolean> = {
  tankLowFloat: false,
  tankHighFloat: true,
  doorOpen: false,
  uvFault: true,
  sourceLow: true,
};

/** A line that could not be opened, read or written: a hardware fault until the gateway restarts. */
export interface LineFault {
  line: LineName;
  pin: number;
  error: string;
}

/**
 * The kiosk's relays and switches by name, on whichever GPIO chip is in use. A line that
 * cannot be opened, read or written is a fault (`faults()`), never a guess: an input reads
 * its fail-safe value and a relay counts as off.
 */
export class KioskIo extends EventEmitter<{ input: [name: InputName, value: boolean] }> {
  private readonly lines = new Map<LineName, GpioLine>();
  private readonly lineFaults = new Map<LineName, LineFault>();
  private readonly values: KioskInputs;
  /** What we last wrote successfully: this process is the relays' only writer. */
  private readonly outputs: KioskOutputs = { pumpOn: false, uvLampOn: false };
  private closed = false;

  constructor(
    readonly chip: GpioChip,
    private readonly config: HardwareConfig['gpio'],
  ) {
    super();
    const out = { activeLow: config.relaysActiveLow };
    this.openLine('pumpOn', (pin) => chip.open(pin, 'out', 'none', out));
    this.openLine('uvLampOn', (pin) => chip.open(pin, 'out', 'none', out));
    this.setPump(false);
    this.setUvLamp(false);
    const inOptions = { activeLow: config.inputsActiveLow, debounceTimeout: config.debounceMs };
    for (const name of INPUT_NAMES) {
      const line = this.openLine(name, (pin) => chip.open(pin, 'in', 'both', inOptions));
      line?.watch((error, value) => {
        if (error) this.fault(name, error);
        else this.update(name, value);
      });
    }
    this.values = {
      tankLowFloat: this.read('tankLowFloat') ?? FAIL_SAFE.tankLowFloat,
      tankHighFloat: this.read('tankHighFloat') ?? FAIL_SAFE.tankHighFloat,
      doorOpen: this.read('doorOpen') ?? FAIL_SAFE.doorOpen,
      uvFault: this.read('uvFault'),
      sourceLow: this.read('sourceLow'),
    };
  }

  inputState(): KioskInputs {
    return { ...this.values };
  }

  outputState(): KioskOutputs {
    return { ...this.outputs };
  }

  /** Lines that failed, in wiring order. */
  faults(): LineFault[] {
    return [...this.lineFaults.values()];
  }

  setPump(on: boolean): void {
    this.write('pumpOn', on);
  }

  setUvLamp(on: boolean): void {
    this.write('uvLampOn', on);
  }

  /** Relays off (a stopped gateway must not leave the pump running), lines released. */
  close(): void {
    if (this.closed) return;
    this.setPump(false);
    this.setUvLamp(false);
    this.closed = true;
    for (const line of this.lines.values()) {
      line.unwatchAll();
      line.unexport();
    }
  }

  private openLine(name: LineName, open: (pin: number) => GpioLine): GpioLine | undefined {
    const pin = gpioPin(this.config, name);
    if (pin === undefined) return undefined; // not fitted
    try {
      const line = open(pin);
      this.lines.set(name, line);
      return line;
    } catch (error) {
      this.fault(name, error);
      return undefined;
    }
  }

  private write(name: keyof KioskOutputs, on: boolean): void {
    if (this.closed) return;
    const line = this.lines.get(name);
    if (!line) return; // faulted: counts as off
    try {
      line.writeSync(on ? 1 : 0);
      this.outputs[name] = on;
    } catch (error) {
      this.fault(name, error);
      this.outputs[name] = false;
    }
  }

  /** The line's logical value; the fail-safe value when it is faulty; undefined when not fitted. */
  private read(name: InputName): boolean | undefined {
    if (gpioPin(this.config, name) === undefined) return undefined;
    const line = this.lines.get(name);
    if (!line) return FAIL_SAFE[name];
    try {
      return line.readSync() === 1;
    } catch (error) {
      this.fault(name, error);
      return FAIL_SAFE[name];
    }
  }

  private fault(name: LineName, error: unknown): void {
    if (this.lineFaults.has(name)) return;
    const message = error instanceof Error ? error.message : String(error);
    this.lineFaults.set(name, { line: name, pin: gpioPin(this.config, name) ?? -1, error: message });
    if (name in FAIL_SAFE && this.values) this.update(name as InputName, FAIL_SAFE[name as InputName] ? 1 : 0);
    if (name === 'pumpOn' || name === 'uvLampOn') this.outputs[name] = false;
  }

  private update(name: InputName, value: BinaryValue): void {
    const next = value === 1;
    if (this.values[name] === next) return;
    (this.values as unknown as Record<InputName, boolean>)[name] = next;
    this.emit('input', name, next);
  }
}

/** The header (BCM) pin a named line is wired to; undefined if not fitted. The chip maps it to sysfs. */
export function gpioPin(config: HardwareConfig['gpio'], name: LineName): number | undefined {
  const pins: Record<LineName, number | undefined> = {
    pumpOn: config.pumpPin,
    uvLampOn: config.uvLampPin,
    tankLowFloat: config.tankLowFloatPin,
    tankHighFloat: config.tankHighFloatPin,
    doorOpen: config.doorPin,
    uvFault: config.uvFaultPin,
    sourceLow: config.sourceLowPin,
  };
  return pins[name];
}
