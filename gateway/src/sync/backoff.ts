export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Uniform in [0, 1); injected so tests can pin it. */
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": the n-th consecutive failure waits between
 * half and all of min(max, initial × 2ⁿ), so a fleet that lost the cloud together does not
 * come back in lockstep, yet no gateway retries much sooner than the schedule.
 */
export class Backoff {
  private failures = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.random = options.random ?? Math.random;
  }

  /** Records a failure and returns how long to wait before the next try. */
  fail(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.failures);
    this.failures = Math.min(this.failures + 1, 30);
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  reset(): void {
    this.failures = 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
