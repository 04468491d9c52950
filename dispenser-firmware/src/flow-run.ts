import type { SessionEndReason } from '@tusafishe/protocol';
import type { Hal, TimerHandle } from './hal.js';

export interface FlowRunOptions {
  /** Close the valve on this pulse; none for a timed valve test. */
  targetPulses?: number;
  /** Close the valve when no pulse arrived for this long (dry tank, kinked hose). */
  noFlowTimeoutMs: number;
  tickMs: number;
  /** Called every tick while the valve is open. */
  onTick(pulses: number): void;
  /** Called exactly once, after the valve has closed. */
  onEnd(pulses: number, reason: SessionEndReason): void;
}

/**
 * One opening of the valve. Every way out of it closes the valve first: target reached,
 * stop() (cancel, gateway lost, fault), or the no-flow timeout.
 */
export class FlowRun {
  #ticker: TimerHandle;
  #lastPulses = 0;
  #lastFlowAt = 0;
  #open = false;

  constructor(
    private readonly hal: Pick<Hal, 'valve' | 'flow' | 'clock'>,
    private readonly options: FlowRunOptions,
  ) {}

  get pulses(): number {
    return this.hal.flow.count();
  }

  start(): void {
    const { clock, flow, valve } = this.hal;
    flow.reset();
    this.#lastFlowAt = clock.now();
    this.#open = true;
    this.#ticker = clock.every(this.options.tickMs, () => this.#tick());
    valve.open();
  }

  /** Routed here from the flow meter's pulse listener. */
  pulse(count: number): void {
    if (this.#open && this.options.targetPulses !== undefined && count >= this.options.targetPulses) {
      this.stop('target_reached');
    }
  }

  stop(reason: SessionEndReason): void {
    if (!this.#open) return;
    this.#open = false;
    this.hal.valve.close();
    this.hal.clock.cancel(this.#ticker);
    this.options.onEnd(this.pulses, reason);
  }

  #tick(): void {
    const pulses = this.pulses;
    const now = this.hal.clock.now();
    if (pulses !== this.#lastPulses) {
      this.#lastPulses = pulses;
      this.#lastFlowAt = now;
    } else if (now - this.#lastFlowAt >= this.options.noFlowTimeoutMs) {
      this.stop('no_flow');
      return;
    }
    this.options.onTick(pulses);
  }
}
