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

/** Where lines come from: the Pi's sysfs GPIO (onoff), the simulator, or none (every line a fault). */
export interface GpioChip {
  readonly kind: 'onoff' | 'simulated' | 'unavailable';
  open(pin: number, direction: Direction, edge: Edge, options: GpioOptions): GpioLine;
}

/**
 * The chip of a kiosk whose GPIO cannot be reached: every line fails to open, so each
 * is reported as a hardware fault and read at its fail-safe value (see KioskIo), never simulated.
 */
export function unavailableGpioChip(reason: string): GpioChip {
  return {
    kind: 'unavailable',
    open: (pin) => {
      throw new Error(`GPIO ${pin} unavailable: ${reason}`);
    },
  };
}
