import type { FlowMeter, Valve } from '../hal.js';

export interface VirtualWaterLineOptions {
  flowRateMlPerSecond: number;
  /** Pulses the simulated meter gives per litre; read on every tick so it can follow the gateway's calibration. */
  pulsesPerLitre: () => number;
  tickMs?: number;
}

/**
 * The valve and the flow meter behind it: while the valve is open, water flows at the
 * set rate and the meter pulses. Pulses arrive one at a time and stop the moment the
 * valve closes, like the real line.
 */
export class VirtualWaterLine implements Valve, FlowMeter {
  #open = false;
  #count = 0;
  #fraction = 0;
  #lastTick = 0;
  #ticker: NodeJS.Timeout | undefined;
  #listener: (count: number) => unknown = () => undefined;
  /** A pulse whose listener has not finished yet: the next waits for it. */
  #handling = false;
  #rate: number;
  readonly #tickMs: number;

  constructor(private readonly options: VirtualWaterLineOptions) {
    this.#rate = options.flowRateMlPerSecond;
    this.#tickMs = options.tickMs ?? 10;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** mL/s while open; 0 is a dry tank. */
  setFlowRate(mlPerSecond: number): void {
    this.#flow();
    this.#rate = mlPerSecond;
  }

  open(): void {
    if (this.#open) return;
    this.#open = true;
    this.#lastTick = performance.now();
    this.#ticker = setInterval(() => this.#flow(), this.#tickMs);
  }

  close(): void {
    this.#open = false;
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  count(): number {
    return this.#count;
  }

  reset(): void {
    this.#count = 0;
    this.#fraction = 0;
  }

  /**
   * A listener that returns a promise (firmware in another process) holds the next pulse until
   * it settles, as a listener running inline does: closing the valve in it stops the flow.
   * The water keeps its rate meanwhile; held pulses follow one at a time.
   */
  onPulse(listener: (count: number) => unknown): void {
    this.#listener = listener;
  }

  #flow(): void {
    if (!this.#open) return;
    const now = performance.now();
    this.#fraction += (((now - this.#lastTick) / 1000) * this.#rate * this.options.pulsesPerLitre()) / 1000;
    this.#lastTick = now;
    while (this.#fraction >= 1 && this.#open && !this.#handling) {
      this.#fraction -= 1;
      this.#count += 1;
      const handled = this.#listener(this.#count);
      if (handled instanceof Promise) {
        this.#handling = true;
        void handled.finally(() => {
          this.#handling = false;
          this.#flow();
        });
      }
    }
  }
}
