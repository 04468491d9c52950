import type { BinaryValue, Direction, Edge, GpioChip, GpioLine, GpioOptions, ValueCallback } from './gpio-line.js';

/**
 * One simulated GPIO line that behaves like onoff's: `activeLow` inverts what
 * readSync/writeSync see, inputs cannot be written, and watchers fire after the
 * level has been stable for `debounceTimeout` ms (onoff debounces the same way,
 * trailing edge) when the settled value matches the configured edge.
 */
export class SimulatedGpio implements GpioLine {
  /** Physical level on the pin (before activeLow). */
  private level: BinaryValue = 0;
  private listeners: ValueCallback[] = [];
  private debounceTimer: NodeJS.Timeout | undefined;
  private exported = true;

  constructor(
    readonly pin: number,
    private readonly direction: Direction,
    private readonly edge: Edge = 'none',
    private readonly options: GpioOptions = {},
    initialLevel?: BinaryValue,
  ) {
    if (initialLevel !== undefined) this.level = initialLevel;
    if (direction === 'high') this.level = this.physical(1);
    if (direction === 'low') this.level = this.physical(0);
  }

  readSync(): BinaryValue {
    this.assertExported();
    return this.physical(this.level);
  }

  writeSync(value: BinaryValue): void {
    this.assertExported();
    if (this.direction === 'in')
      throw Object.assign(new Error(`EPERM: GPIO ${this.pin} is an input`), { code: 'EPERM' });
    this.level = this.physical(value);
  }

  watch(callback: ValueCallback): void {
    this.listeners.push(callback);
  }

  unwatchAll(): void {
    this.listeners = [];
  }

  unexport(): void {
    clearTimeout(this.debounceTimer);
    this.listeners = [];
    this.exported = false;
  }

  /** The outside world sets the pin's physical level (a float switch moves, a contact bounces). */
  drive(level: BinaryValue): void {
    if (this.direction !== 'in' || !this.exported || level === this.level) return;
    this.level = level;
    clearTimeout(this.debounceTimer);
    const delay = this.options.debounceTimeout ?? 0;
    this.debounceTimer = setTimeout(() => this.notify(), delay);
  }

  /** Physical level as a driver would see it on the wire (outputs: what the relay gets). */
  physicalLevel(): BinaryValue {
    return this.level;
  }

  private notify(): void {
    const value = this.readSync();
    const fires =
      this.edge === 'both' || (this.edge === 'rising' && value === 1) || (this.edge === 'falling' && value === 0);
    if (!fires) return;
    for (const listener of this.listeners.slice()) listener(null, value);
  }

  /** activeLow maps logical ↔ physical both ways. */
  private physical(value: BinaryValue): BinaryValue {
    return this.options.activeLow ? ((1 - value) as BinaryValue) : value;
  }

  private assertExported(): void {
    if (!this.exported) throw new Error(`GPIO ${this.pin} is unexported`);
  }
}

/** A bank of simulated lines, addressable by pin so a simulation can act as the wiring. */
export class SimulatedGpioChip implements GpioChip {
  readonly kind = 'simulated';
  private readonly lines = new Map<number, SimulatedGpio>();
  /** Levels the world put on pins before anyone opened them. */
  private readonly presets = new Map<number, BinaryValue>();

  open(pin: number, direction: Direction, edge: Edge, options: GpioOptions): SimulatedGpio {
    const line = new SimulatedGpio(
      pin,
      direction,
      edge,
      options,
      direction === 'in' ? this.presets.get(pin) : undefined,
    );
    this.lines.set(pin, line);
    return line;
  }

  /** The world sets a pin's physical level, whether or not the line is open yet. */
  drive(pin: number, level: BinaryValue): void {
    const line = this.lines.get(pin);
    if (line) line.drive(level);
    else this.presets.set(pin, level);
  }

  /** Physical level on a pin; 0 while nobody drives it. */
  level(pin: number): BinaryValue {
    return this.lines.get(pin)?.physicalLevel() ?? this.presets.get(pin) ?? 0;
  }

  line(pin: number): SimulatedGpio {
    const line = this.lines.get(pin);
    if (!line) throw new Error(`simulated GPIO ${pin} is not open`);
    return line;
  }
}
