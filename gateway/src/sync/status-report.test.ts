import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KioskStatusReport } from '@tusafishe/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GatewayEvents, type AuthorisationOutcome } from '../events.js';
import { Store } from '../store/store.js';
import { AuthCounts } from './auth-counts.js';
import { startStatusReports } from './status-report.js';

const HOUR = 3_600_000;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function outcome(approved: boolean, at: number, repeat = false): AuthorisationOutcome {
  return {
    request_id: 'r',
    dispenser_id: 'D1',
    phone: null,
    account_id: null,
    requested_ml: 1000,
    approved,
    reason: approved ? null : 'WRONG_PIN',
    session_id: null,
    repeat,
    at,
    response: {} as AuthorisationOutcome['response'],
  };
}

describe('kiosk status reports', () => {
  it('keep new counts in memory until a report is accepted, old ones, or stop', () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-report-'));
    const store = Store.open(dir);
    cleanups.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => store.close(),
    );
    const stored = () => store.db.prepare('SELECT hour, outcome, count, reported FROM auth_counts ORDER BY hour').all();
    const counts = new AuthCounts(store.db);
    const hour = 100 * HOUR;
    counts.add('approved', hour + 1000);
    counts.add('approved', hour + 2000);
    expect(stored()).toEqual([]);
    expect(counts.unreported()).toEqual([{ hour, outcome: 'approved', count: 2 }]);
    counts.reported(counts.unreported(), hour + 3000);
    expect(stored()).toEqual([{ hour, outcome: 'approved', count: 2, reported: 2 }]);

    counts.add('approved', hour + 4000);
    expect(counts.unreported()).toEqual([{ hour, outcome: 'approved', count: 3 }]);
    // No report accepted for five minutes (the cloud away): written anyway.
    counts.add('WRONG_PIN', hour + 4000 + 5 * 60_000);
    expect(stored()).toEqual([
      { hour, outcome: 'WRONG_PIN', count: 1, reported: 0 },
      { hour, outcome: 'approved', count: 3, reported: 2 },
    ]);
    counts.add('WRONG_PIN', hour + 10 * 60_000);
    counts.flush();
    expect(stored()).toContainEqual({ hour, outcome: 'WRONG_PIN', count: 2, reported: 0 });
  });

  it('count authorisations by hour and resend an hour until the cloud has its current count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-report-'));
    const store = Store.open(dir);
    cleanups.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => store.close(),
    );
    const events = new GatewayEvents();
    const counts = new AuthCounts(store.db);
    counts.listen(events.scope());
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    events.emit('authorisation', outcome(true, hour + 10));
    events.emit('authorisation', outcome(true, hour + 20));
    events.emit('authorisation', outcome(true, hour + 20, true)); // a repeated request: not a new outcome
    events.emit('authorisation', outcome(false, hour - 10));

    const sent: KioskStatusReport[] = [];
    let refuse = true;
    const reports = startStatusReports({
      store,
      client: {
        async status(report) {
          sent.push(report);
          if (refuse) throw new Error('cloud unreachable');
          return { firmware: null };
        },
      },
      sync: { status: () => ({ events_waiting: 4 }) as never },
      hardware: null,
      authCounts: counts,
      fleet: { progress: () => undefined, follow: async () => undefined },
      intervalMs: 50,
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => reports.close());

    await vi.waitFor(() => expect(sent.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    refuse = false;
    const expected = [
      { hour: hour - HOUR, outcome: 'WRONG_PIN', count: 1 },
      { hour, outcome: 'approved', count: 2 },
    ];
    // Refused reports leave the counts unsent; the first accepted one carries them all.
    await vi.waitFor(() => expect(sent.at(-1)?.auth_counts).toEqual([]), { timeout: 10_000 });
    const accepted = sent.filter((r) => r.auth_counts.length > 0);
    expect(accepted.every((r) => JSON.stringify(r.auth_counts) === JSON.stringify(expected))).toBe(true);
    expect(sent.at(-1)).toMatchObject({ events_waiting: 4, tank_level_pct: null, water_quality: 'unknown' });

    const before = sent.length;
    events.emit('authorisation', outcome(true, hour + 30));
    const again = JSON.stringify([{ hour, outcome: 'approved', count: 3 }]);
    await vi.waitFor(() => expect(sent.slice(before).some((r) => JSON.stringify(r.auth_counts) === again)).toBe(true), {
      timeout: 10_000,
    });
  });
});
