import type { BinaryValue, Direction, Edge, Options, ValueCallback } from 'onoff';

export type { BinaryValue, Direction, Edge, ValueCallback };
export type GpioOptions = Pick<Options, 'debounceTimeout' | 'activeLow'>;

/** The part of onoff's `Gpio` the kiosk uses; onoff's class satisfies it as is. */
export interface GpioLine {
  readSync(): BinaryValue;
  writeSync(value: BinaryValue): void;
  watch(callback: ValueCallback): void;
  unwatchAll(): void;
  unexport(): void;
}

/** Where lines come from: the Pi's sysfs GPIO (onoff) or the simulator. */
export interface GpioChip {
  readonly kind: 'onoff' | 'simulated';
  open(pin: number, direction: Direction, edge: Edge, options: GpioOptions): GpioLine;
}
