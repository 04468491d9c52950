import type { HardwareConfig, SensorSpec } from '../config.js';
import { gpioPin, type KioskInputs } from '../gpio/kiosk-io.js';
import type { SimulatedGpioChip } from '../gpio/simulated-gpio.js';
import type { ModbusSensorSimulator } from '../modbus/modbus-sensor-simulator.js';
import type { Sim7670Simulator } from '../modem/sim7670-simulator.js';

/** Tank physics per second: the feed pump fills faster than a busy kiosk draws. */
const PUMP_FILL_PCT_PER_S = 0.6;
const PEAK_DRAW_PCT_PER_S = 0.25;
/** Float switch heights (% of tank). */
const LOW_FLOAT_PCT = 8;
const HIGH_FLOAT_PCT = 97;

/**
 * The physical kiosk behind the simulators: a tank drained by customers and
 * filled by the pump relay, float switches that follow its level, and quality
 * sensors wandering inside their ok ranges. Values a test (or a demo) pins stay
 * where they are put.
 */
export class SimulatedKiosk {
  private level = 60;
  private readonly wander = new Map<string, number>();
  private readonly pinned = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: HardwareConfig,
    private readonly chip: SimulatedGpioChip,
    readonly sensors: ModbusSensorSimulator,
    readonly modem: Sim7670Simulator | undefined,
    private readonly random: () => number = Math.random,
  ) {
    for (const [id, spec] of Object.entries(config.sensors)) {
      if (spec.kind === 'quality') this.wander.set(id, midRange(spec));
    }
    this.apply();
  }

  start(): void {
    const { tickMs, speed } = this.config.simulation;
    this.timer = setInterval(() => this.tick((tickMs / 1000) * speed), tickMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Holds a sensor at a value (tank_level moves the floats with it). */
  pin(sensor: string, value: number): void {
    this.pinned.add(sensor);
    if (this.config.sensors[sensor]?.kind === 'tank_level') this.level = value;
    else this.wander.set(sensor, value);
    this.apply();
  }

  /** Moves a switch as the world would (door opened, ballast fault, source dry). */
  setInput(name: 'doorOpen' | 'uvFault' | 'sourceLow', value: boolean): void {
    this.drive(name, value);
  }

  tankLevel(): number {
    return this.level;
  }

  private tick(seconds: number): void {
    if (!this.isPinned('tank_level')) {
      const draw = this.random() * PEAK_DRAW_PCT_PER_S; // customers come and go
      const fill = this.pumpRunning() ? PUMP_FILL_PCT_PER_S : 0;
      this.level = clamp(this.level + (fill - draw) * seconds, 0, 100);
    }
    for (const [id, spec] of Object.entries(this.config.sensors)) {
      if (spec.kind !== 'quality' || this.pinned.has(id)) continue;
      this.wander.set(id, step(this.wander.get(id) ?? midRange(spec), spec, this.random));
    }
    this.apply();
  }

  private apply(): void {
    for (const [id, spec] of Object.entries(this.config.sensors)) {
      this.sensors.set(id, spec.kind === 'tank_level' ? Math.round(this.level * 10) / 10 : (this.wander.get(id) ?? 0));
    }
    this.drive('tankLowFloat', this.level > LOW_FLOAT_PCT);
    this.drive('tankHighFloat', this.level >= HIGH_FLOAT_PCT);
  }

  private isPinned(kind: SensorSpec['kind']): boolean {
    return Object.entries(this.config.sensors).some(([id, spec]) => spec.kind === kind && this.pinned.has(id));
  }

  /** The pump runs when its relay coil is energised, i.e. by the wire's level. */
  private pumpRunning(): boolean {
    const level = this.chip.level(gpioPin(this.config.gpio, 'pumpOn')!);
    return level === (this.config.gpio.relaysActiveLow ? 0 : 1);
  }

  private drive(name: keyof KioskInputs, value: boolean): void {
    const pin = gpioPin(this.config.gpio, name);
    if (pin === undefined) return;
    this.chip.drive(pin, value !== this.config.gpio.inputsActiveLow ? 1 : 0);
  }
}

/** Where a healthy sensor sits: the middle of the lower half of its ok range. */
function midRange(spec: SensorSpec): number {
  const low = spec.okMin ?? 0;
  const high = spec.okMax ?? low + 1;
  return low + (high - low) * 0.3;
}

/** Mean-reverting random walk that stays well inside the ok range. */
function step(value: number, spec: SensorSpec, random: () => number): number {
  const low = spec.okMin ?? 0;
  const high = spec.okMax ?? low + 1;
  const span = high - low;
  const target = midRange(spec);
  const next = value + (target - value) * 0.1 + (random() - 0.5) * span * 0.04;
  const decimals = Math.max(0, -Math.floor(Math.log10(spec.scale)));
  return Number(clamp(next, low + span * 0.1, high - span * 0.2).toFixed(decimals));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
