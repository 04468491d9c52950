import type { AuthCount } from '@tusafishe/protocol';
import type { Db } from '../store/database.js';
import type { EventScope } from '../events.js';

const HOUR_MS = 3_600_000;
/** Hours kept (the console's analytics live in the cloud; the gateway only needs what is unsent). */
const KEEP_MS = 14 * 24 * HOUR_MS;
/** The most a report carries: the oldest unsent hours go first. */
const MAX_ROWS = 2000;
/** Counts not yet written are written once the oldest is this old, even while no report is accepted. */
const PENDING_MAX_MS = 5 * 60_000;

const keyOf = (hour: number, outcome: string): string => `${hour} ${outcome}`;

/**
 * Authorisation outcomes per hour (`approved` or the denial code), counted as they are answered
 * and sent with the kiosk status until the cloud has the current count of each hour.
 * New counts are kept in memory and written with the report the cloud accepts (or after
 * PENDING_MAX_MS, or at stop): a commit per answer was a WAL page per dispense on the SD card.
 * A power cut loses the counts of at most those minutes (the ledger holds every dispense).
 */
export class AuthCounts {
  private readonly pending = new Map<string, AuthCount>();
  private pendingSince: number | null = null;
  private readonly countOf;
  private readonly addCount;

  constructor(private readonly db: Db) {
    this.countOf = db
      .prepare<[number, string], number>('SELECT count FROM auth_counts WHERE hour = ? AND outcome = ?')
      .pluck();
    this.addCount = db.prepare<[number, string, number, number]>(
      `INSERT INTO auth_counts (hour, outcome, count) VALUES (?, ?, ?)
       ON CONFLICT (hour, outcome) DO UPDATE SET count = count + ?`,
    );
  }

  /** Counts every first answer (a repeated request's stored answer is not a new outcome). */
  listen(events: EventScope): void {
    events.on('authorisation', (outcome) => {
      if (!outcome.repeat) this.add(outcome.approved ? 'approved' : (outcome.reason ?? 'INVALID_REQUEST'), outcome.at);
    });
  }

  add(outcome: string, at: number): void {
    const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
    const key = keyOf(hour, outcome);
    const counted = this.pending.get(key);
    if (counted) counted.count += 1;
    else this.pending.set(key, { hour, outcome, count: 1 });
    this.pendingSince ??= at;
    if (at - this.pendingSince >= PENDING_MAX_MS || at < this.pendingSince) this.flush();
  }

  /** Writes the counts held in memory (at stop, and when they get old). */
  flush(): void {
    this.db.transaction(() => this.writePending())();
    this.forgetPending();
  }

  /** Hours whose count the cloud does not have yet, with the counts held in memory. */
  unreported(): AuthCount[] {
    const rows = new Map(
      this.db
        .prepare<[], AuthCount>('SELECT hour, outcome, count FROM auth_counts WHERE count <> reported')
        .all()
        .map((row) => [keyOf(row.hour, row.outcome), row]),
    );
    for (const [key, { hour, outcome, count }] of this.pending) {
      const stored = rows.get(key)?.count ?? this.countOf.get(hour, outcome) ?? 0;
      rows.set(key, { hour, outcome, count: stored + count });
    }
    return [...rows.values()].sort((a, b) => a.hour - b.hour || a.outcome.localeCompare(b.outcome)).slice(0, MAX_ROWS);
  }

  /** The cloud accepted these counts (an hour counted again since keeps its difference unsent). */
  reported(counts: readonly AuthCount[], now: number): void {
    const mark = this.db.prepare('UPDATE auth_counts SET reported = ? WHERE hour = ? AND outcome = ?');
    this.db.transaction(() => {
      this.writePending();
      for (const c of counts) mark.run(c.count, c.hour, c.outcome);
      this.db.prepare('DELETE FROM auth_counts WHERE hour < ? AND count = reported').run(now - KEEP_MS);
    })();
    this.forgetPending();
  }

  private writePending(): void {
    for (const { hour, outcome, count } of this.pending.values()) this.addCount.run(hour, outcome, count, count);
  }

  /** Once written (a failed transaction keeps them for the next try). */
  private forgetPending(): void {
    this.pending.clear();
    this.pendingSince = null;
  }
}
