/**
 * Latencies in whole milliseconds, counted per millisecond up to a ceiling (exact percentiles at
 * 1 ms resolution in fixed memory, however many samples; mergeable across processes).
 */
export class Histogram {
  readonly counts: Uint32Array;
  count = 0;

  constructor(
    readonly ceilingMs = 120_000,
    counts?: readonly number[],
  ) {
    this.counts = new Uint32Array(ceilingMs + 1);
    if (counts) {
      this.counts.set(counts);
      this.count = counts.reduce((sum, n) => sum + n, 0);
    }
  }

  record(ms: number): void {
    this.counts[Math.min(this.ceilingMs, Math.max(0, Math.round(ms)))]! += 1;
    this.count += 1;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
  }

  /** The smallest value with at least p % of the samples at or below it; null when empty. */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let ms = 0; ms < this.counts.length; ms++) {
      seen += this.counts[ms]!;
      if (seen >= rank) return ms;
    }
    return this.ceilingMs;
  }

  /** For IPC: only the non-empty buckets. */
  toJSON(): [number, number][] {
    const buckets: [number, number][] = [];
    this.counts.forEach((n, ms) => {
      if (n > 0) buckets.push([ms, n]);
    });
    return buckets;
  }

  static fromJSON(buckets: [number, number][], ceilingMs = 120_000): Histogram {
    const histogram = new Histogram(ceilingMs);
    for (const [ms, n] of buckets) {
      histogram.counts[ms] = n;
      histogram.count += n;
    }
    return histogram;
  }
}
