import type { Clock, TimerHandle } from '../hal.js';

/** Timers on the real clock, tracked so a simulated power cut can silence them all at once. */
export class HostClock implements Clock {
  readonly #timers = new Set<NodeJS.Timeout>();
  #halted = false;

  get halted(): boolean {
    return this.#halted;
  }

  now(): number {
    return Date.now();
  }

  after(ms: number, callback: () => void): TimerHandle {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  every(ms: number, callback: () => void): TimerHandle {
    const timer = setInterval(callback, ms);
    this.#timers.add(timer);
    return timer;
  }

  cancel(timer: TimerHandle | undefined): void {
    if (!timer) return;
    clearTimeout(timer as NodeJS.Timeout);
    this.#timers.delete(timer as NodeJS.Timeout);
  }

  /** The power is gone: no timer of this boot fires again. */
  halt(): void {
    this.#halted = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
