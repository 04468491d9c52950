import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { CloudMetrics } from '../metrics.js';
import type { Db } from '../store/db.js';

export interface ScheduleOptions {
  /** How long the job stays this instance's after a run; another instance takes it over only then. Default 3 × `everyMs`, at least 30 s. */
  leaseMs?: number;
}

interface Scheduled {
  timer: NodeJS.Timeout;
  running: Promise<unknown> | undefined;
}

/**
 * Jobs that run on one cloud instance at a time, however many instances share the database:
 * each job is held by one instance under a lease in `scheduled_jobs` (the database's clock, so
 * the instances' clocks do not matter). The holder renews it at every run; when it stops the
 * lease is released and another instance takes the job at its next tick; when it dies the lease
 * runs out. Every instance schedules every job, so a job goes on while any instance is up.
 */
export class ExclusiveJobs {
  /** This instance, as `scheduled_jobs.holder` shows it. */
  readonly holder = randomUUID();
  private readonly scheduled = new Map<string, Scheduled>();

  constructor(
    private readonly db: Db,
    private readonly metrics: CloudMetrics,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Runs `fn` if this instance holds `job` (taking it if free or its lease ran out), renewing
   * the lease for `leaseMs`; resolves to whether it ran. `fn` should finish well within the lease.
   */
  async runExclusive(job: string, leaseMs: number, fn: () => Promise<unknown>): Promise<boolean> {
    const held = await this.db.query(
      `INSERT INTO scheduled_jobs AS j (name, holder, lease_until, last_run_at)
       VALUES ($1, $2, now() + make_interval(secs => $3::double precision / 1000), now())
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until, last_run_at = now()
       WHERE j.holder = EXCLUDED.holder OR j.lease_until < now()
       RETURNING name`,
      [job, this.holder, leaseMs],
    );
    if (held.length === 0) {
      this.metrics.exclusiveJobRuns.inc({ job, outcome: 'skipped' });
      return false;
    }
    try {
      await fn();
      this.metrics.exclusiveJobRuns.inc({ job, outcome: 'ran' });
    } catch (error) {
      this.metrics.exclusiveJobRuns.inc({ job, outcome: 'failed' });
      throw error;
    }
    return true;
  }

  /** Ticks every `everyMs` until `stop`: `fn` runs at each tick on the one instance holding `job`. */
  schedule(job: string, everyMs: number, fn: () => Promise<unknown>, options: ScheduleOptions = {}): void {
    if (this.scheduled.has(job)) throw new Error(`job ${job} is already scheduled`);
    const leaseMs = options.leaseMs ?? Math.max(3 * everyMs, 30_000);
    const entry: Scheduled = { timer: setInterval(() => tick(), everyMs), running: undefined };
    const tick = (): void => {
      if (entry.running) return; // the last run is still going: skip, never overlap
      entry.running = this.runExclusive(job, leaseMs, fn)
        .catch((error: unknown) => this.log.error({ err: error, job }, 'scheduled job failed'))
        .finally(() => {
          entry.running = undefined;
        });
    };
    entry.timer.unref();
    this.scheduled.set(job, entry);
  }

  /** Stops every tick, waits for runs under way, and hands this instance's jobs over at once. */
  async stop(): Promise<void> {
    const jobs = [...this.scheduled.keys()];
    for (const entry of this.scheduled.values()) clearInterval(entry.timer);
    await Promise.all([...this.scheduled.values()].map((entry) => entry.running));
    this.scheduled.clear();
    if (jobs.length === 0) return;
    await this.db
      .query(`UPDATE scheduled_jobs SET lease_until = '-infinity' WHERE name = ANY($1::text[]) AND holder = $2`, [
        jobs,
        this.holder,
      ])
      .catch((error: unknown) => this.log.warn({ err: error }, 'scheduled jobs not released; their leases run out'));
  }
}
