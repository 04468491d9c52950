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

/** The kiosk's relays and switches by name, on whichever GPIO chip is in use. */
export class KioskIo extends EventEmitter<{ input: [name: InputName, value: boolean] }> {
  private readonly pump: GpioLine;
  private readonly uvLamp: GpioLine;
  private readonly inputs = new Map<InputName, GpioLine>();
  private readonly values: KioskInputs;
  /** What we last wrote: this process is the relays' only writer. */
  private readonly outputs: KioskOutputs = { pumpOn: false, uvLampOn: false };
  private closed = false;

  constructor(
    readonly chip: GpioChip,
    config: HardwareConfig['gpio'],
  ) {
    super();
    const out = { activeLow: config.relaysActiveLow };
    this.pump = chip.open(gpioPin(config, 'pumpOn')!, 'out', 'none', out);
    this.uvLamp = chip.open(gpioPin(config, 'uvLampOn')!, 'out', 'none', out);
    this.setPump(false);
    this.setUvLamp(false);
    const inOptions = { activeLow: config.inputsActiveLow, debounceTimeout: config.debounceMs };
    for (const name of INPUT_NAMES) {
      const pin = gpioPin(config, name);
      if (pin === undefined) continue;
      const line = chip.open(pin, 'in', 'both', inOptions);
      line.watch((error, value) => {
        if (!error) this.update(name, value);
      });
      this.inputs.set(name, line);
    }
    this.values = {
      tankLowFloat: this.read('tankLowFloat') ?? false,
      tankHighFloat: this.read('tankHighFloat') ?? false,
      doorOpen: this.read('doorOpen') ?? false,
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

  setPump(on: boolean): void {
    if (this.closed) return;
    this.pump.writeSync(on ? 1 : 0);
    this.outputs.pumpOn = on;
  }

  setUvLamp(on: boolean): void {
    if (this.closed) return;
    this.uvLamp.writeSync(on ? 1 : 0);
    this.outputs.uvLampOn = on;
  }

  /** Relays off (a stopped gateway must not leave the pump running), lines released. */
  close(): void {
    if (this.closed) return;
    this.setPump(false);
    this.setUvLamp(false);
    this.closed = true;
    for (const line of [this.pump, this.uvLamp, ...this.inputs.values()]) {
      line.unwatchAll();
      line.unexport();
    }
  }

  private read(name: InputName): boolean | undefined {
    const line = this.inputs.get(name);
    return line ? line.readSync() === 1 : undefined;
  }

  private update(name: InputName, value: BinaryValue): void {
    const next = value === 1;
    if (this.values[name] === next) return;
    (this.values as unknown as Record<InputName, boolean>)[name] = next;
    this.emit('input', name, next);
  }
}

/** The pin number (base included) a named line is wired to; undefined if not fitted. */
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
  const pin = pins[name];
  return pin === undefined ? undefined : config.base + pin;
}
