import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { backends, freshDb } from '../../test/backends.js';
import { CloudMetrics } from '../metrics.js';
import { ExclusiveJobs } from './exclusive-jobs.js';

describe.each(backends())('jobs held by one instance on $name', (backend) => {
  const db = freshDb(backend);
  const log = pino({ level: 'silent' });
  const instance = (): ExclusiveJobs => new ExclusiveJobs(db(), new CloudMetrics(async () => 0), log);

  it('runs a job on one instance while it holds it, and on another once it stops', async () => {
    const [a, b] = [instance(), instance()];
    const runs = { a: 0, b: 0 };
    a.schedule('tick', 20, async () => void (runs.a += 1));
    b.schedule('tick', 20, async () => void (runs.b += 1));
    await vi.waitFor(() => expect(runs.a + runs.b).toBeGreaterThanOrEqual(5), { timeout: 20_000 });
    // Both tick every 20 ms; the one that took the job keeps it.
    const [holder, other] = runs.a > 0 ? [a, b] : [b, a];
    expect(Math.min(runs.a, runs.b)).toBe(0);
    await holder.stop();
    const before = { ...runs };
    await vi.waitFor(() => expect(runs.a + runs.b).toBeGreaterThan(before.a + before.b + 2), { timeout: 20_000 });
    const [held, took] = holder === a ? [runs.a, runs.b] : [runs.b, runs.a];
    expect(held).toBe(holder === a ? before.a : before.b);
    expect(took).toBeGreaterThan(0);
    await other.stop();
  });

  it('takes over a job whose holder died once its lease runs out, not before', async () => {
    const dead = instance();
    expect(await dead.runExclusive('report', 60_000, async () => undefined)).toBe(true);
    const alive = instance();
    let ran = 0;
    expect(await alive.runExclusive('report', 60_000, async () => void (ran += 1))).toBe(false);
    // The dead holder's lease ends (as 60 s later).
    await db().query(`UPDATE scheduled_jobs SET lease_until = now() - interval '1 second' WHERE name = 'report'`);
    expect(await alive.runExclusive('report', 60_000, async () => void (ran += 1))).toBe(true);
    expect(await dead.runExclusive('report', 60_000, async () => undefined)).toBe(false);
    expect(ran).toBe(1);
  });

  it('never runs one job twice at once on one instance', async () => {
    const jobs = instance();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    jobs.schedule('slow', 10, async () => {
      started += 1;
      await slow;
    });
    await vi.waitFor(() => expect(started).toBe(1), { timeout: 20_000 });
    // A job ticking as often shows that many ticks passed while the run went on; none started another.
    let witnessed = 0;
    jobs.schedule('witness', 10, async () => void (witnessed += 1));
    await vi.waitFor(() => expect(witnessed).toBeGreaterThanOrEqual(5), { timeout: 20_000 });
    expect(started).toBe(1);
    release();
    await vi.waitFor(() => expect(started).toBeGreaterThan(1), { timeout: 20_000 });
    await jobs.stop();
  });
});
