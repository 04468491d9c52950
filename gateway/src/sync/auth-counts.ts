import type { AuthCount } from '@tusafishe/protocol';
import type { Db } from '../store/database.js';
import type { EventScope } from '../events.js';

const HOUR_MS = 3_600_000;
/** Hours kept (the console's analytics live in the cloud; the gateway only needs what is unsent). */
const KEEP_MS = 14 * 24 * HOUR_MS;
/** The most a report carries: the oldest unsent hours go first. */
const MAX_ROWS = 2000;

/**
 * Authorisation outcomes per hour (`approved` or the denial code), counted as they are answered
 * and sent with the kiosk status until the cloud has the current count of each hour.
 */
export class AuthCounts {
  constructor(private readonly db: Db) {}

  /** Counts every first answer (a repeated request's stored answer is not a new outcome). */
  listen(events: EventScope): void {
    events.on('authorisation', (outcome) => {
      if (!outcome.repeat) this.add(outcome.approved ? 'approved' : (outcome.reason ?? 'INVALID_REQUEST'), outcome.at);
    });
  }

  add(outcome: string, at: number): void {
    this.db
      .prepare(
        `INSERT INTO auth_counts (hour, outcome, count) VALUES (?, ?, 1)
         ON CONFLICT (hour, outcome) DO UPDATE SET count = count + 1`,
      )
      .run(Math.floor(at / HOUR_MS) * HOUR_MS, outcome);
  }

  /** Hours whose count the cloud does not have yet. */
  unreported(): AuthCount[] {
    return this.db
      .prepare<[number], AuthCount>(
        'SELECT hour, outcome, count FROM auth_counts WHERE count <> reported ORDER BY hour LIMIT ?',
      )
      .all(MAX_ROWS);
  }

  /** The cloud accepted these counts (an hour counted again since keeps its difference unsent). */
  reported(counts: readonly AuthCount[], now: number): void {
    const mark = this.db.prepare('UPDATE auth_counts SET reported = ? WHERE hour = ? AND outcome = ?');
    this.db.transaction(() => {
      for (const c of counts) mark.run(c.count, c.hour, c.outcome);
      this.db.prepare('DELETE FROM auth_counts WHERE hour < ? AND count = reported').run(now - KEEP_MS);
    })();
  }
}
