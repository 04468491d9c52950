import { BALANCE_EVENT_TYPES, type LedgerEvent, type LedgerEventType } from '@tusafishe/protocol';
import type { Db } from './database.js';

interface LedgerRow {
  event_id: string;
  type: LedgerEventType;
  account_id: string | null;
  amount_ml: number;
  kiosk_id: string | null;
  dispenser_id: string | null;
  source_id: string | null;
  occurred_at: number;
  details: string | null;
}

function toEvent(row: LedgerRow): LedgerEvent {
  const event: LedgerEvent = {
    event_id: row.event_id,
    type: row.type,
    amount_ml: row.amount_ml,
    occurred_at: row.occurred_at,
  };
  if (row.account_id !== null) event.account_id = row.account_id;
  if (row.kiosk_id !== null) event.kiosk_id = row.kiosk_id;
  if (row.dispenser_id !== null) event.dispenser_id = row.dispenser_id;
  if (row.source_id !== null) event.source_id = row.source_id;
  if (row.details !== null) event.details = JSON.parse(row.details) as Record<string, unknown>;
  return event;
}

export interface Dispensed {
  total_ml: number;
  unacked_ml: number;
}

const BALANCE_TYPES_SQL = BALANCE_EVENT_TYPES.map((t) => `'${t}'`).join(', ');
const COLUMNS = 'event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at, details';

/**
 * An event of `ledger_events e` the cloud does not hold: above the acknowledged watermark, or refused
 * by the cloud (kept out of pushes, and counted here as the cloud's balance does not count it).
 */
export const UNACKED_SQL =
  '(e.seq > (SELECT seq FROM ledger_acked) OR e.event_id IN (SELECT event_id FROM sync_rejected_events))';

const HOUR_MS = 3_600_000;
const LAST_SEQ = '9223372036854775807';

/** The parameters of `inTimeRangeSql`: [from, to) and its first and last hours. */
export interface TimeRange {
  from: number;
  to: number;
  first_hour: number;
  last_hour: number;
}

export function timeRange(from: number, to: number): TimeRange {
  return { from, to, first_hour: Math.floor(from / HOUR_MS), last_hour: Math.floor((to - 1) / HOUR_MS) };
}

/**
 * Events of `table` (ledger_events or its alias) that occurred in [@from, @to), bound by `timeRange`:
 * a range of seqs, from the first run marked with one of its hours to the mark after the last one
 * (migration 716), so a read by time scans its own hours, not the ledger. Read with `NOT INDEXED`:
 * the planner would otherwise take the (type, source_id) index for `type = …` over the seq range.
 */
export function inTimeRangeSql(table: string): string {
  const marked = 'FROM ledger_hours WHERE hour BETWEEN @first_hour AND @last_hour';
  return `${table}.seq >= coalesce((SELECT min(seq) ${marked}), ${LAST_SEQ})
    AND ${table}.seq < coalesce((SELECT min(seq) FROM ledger_hours WHERE seq > (SELECT max(seq) ${marked})), ${LAST_SEQ})
    AND ${table}.occurred_at >= @from AND ${table}.occurred_at < @to`;
}

/**
 * Immutable ledger events of this kiosk, with the cloud's acknowledgement: a watermark, every event
 * up to it in the cloud but the refused ones (migration 713: one row written an acknowledgement,
 * not two pages an event).
 */
export class Ledger {
  private readonly insert;
  private readonly unackedSum;
  private readonly dispensedBetween;
  private readonly after;
  private readonly readWatermark;
  private readonly writeWatermark;
  private readonly walk;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(`INSERT INTO ledger_events (${COLUMNS})
      VALUES (@event_id, @type, @account_id, @amount_ml, @kiosk_id, @dispenser_id, @source_id, @occurred_at, @details)`);
    // A token this kiosk redeemed is in the cloud's balance as soon as the replica's record counts
    // its counter (the cloud issued it with the top-up), whether or not the push is acknowledged yet.
    this.unackedSum = db
      .prepare<[string], number>(`SELECT coalesce(sum(amount_ml), 0) FROM ledger_events e
      WHERE account_id = ? AND ${UNACKED_SQL} AND type IN (${BALANCE_TYPES_SQL})
        AND NOT EXISTS (SELECT 1 FROM token_redemptions t JOIN customers c USING (account_id)
                        WHERE t.event_id = e.event_id AND t.counter <= c.token_counter)`)
      .pluck();
    this.dispensedBetween = db.prepare<
      [string, number, number],
      Dispensed
    >(`SELECT coalesce(-sum(amount_ml), 0) AS total_ml,
        coalesce(-sum(amount_ml) FILTER (WHERE ${UNACKED_SQL}), 0) AS unacked_ml
      FROM ledger_events e WHERE account_id = ? AND type = 'dispense' AND occurred_at >= ? AND occurred_at < ?`);
    this.after = db.prepare<[number, number], LedgerRow>(
      `SELECT ${COLUMNS} FROM ledger_events WHERE seq > ? ORDER BY seq LIMIT ?`,
    );
    this.readWatermark = db.prepare<[], number>('SELECT seq FROM ledger_acked WHERE id = 1').pluck();
    this.writeWatermark = db.prepare<[number, number]>('UPDATE ledger_acked SET seq = ? WHERE id = 1 AND seq < ?');
    this.walk = db.prepare<[number], { seq: number; event_id: string; refused: number }>(
      `SELECT seq, event_id, EXISTS (SELECT 1 FROM sync_rejected_events r WHERE r.event_id = e.event_id) AS refused
        FROM ledger_events e WHERE seq > ? ORDER BY seq`,
    );
  }

  append(event: LedgerEvent): LedgerEvent {
    this.insert.run({
      account_id: null,
      kiosk_id: null,
      dispenser_id: null,
      source_id: null,
      ...event,
      details: event.details ? JSON.stringify(event.details) : null,
    });
    return event;
  }

  /** Sum of this kiosk's balance events the cloud has not yet acknowledged. */
  unackedBalanceMl(accountId: string): number {
    return this.unackedSum.get(accountId) ?? 0;
  }

  /** mL dispensed to the customer at this kiosk in [from, to). */
  dispensedMl(accountId: string, from: number, to: number): number {
    return this.dispensed(accountId, from, to).total_ml;
  }

  /** mL dispensed at this kiosk in [from, to), and how much of it the cloud has not acknowledged. */
  dispensed(accountId: string, from: number, to: number): Dispensed {
    return this.dispensedBetween.get(accountId, from, to) ?? { total_ml: 0, unacked_ml: 0 };
  }

  /** Events above the watermark (refused ones included), oldest first, for the sync worker's push batches. */
  unacknowledged(limit: number, after = this.acknowledgedThrough()): LedgerEvent[] {
    return this.after.all(after, limit).map(toEvent);
  }

  /** The seq up to which the cloud holds every event but the refused ones. */
  acknowledgedThrough(): number {
    return this.readWatermark.get() as number;
  }

  /**
   * Acknowledges the events the cloud holds: the watermark moves past every event in order that
   * `eventIds` names or the cloud refused, up to the first it does not hold (never back). Returns
   * how far it moved.
   */
  acknowledge(eventIds: readonly string[]): number {
    const held = new Set(eventIds);
    const from = this.acknowledgedThrough();
    let to = from;
    for (const event of this.walk.iterate(from)) {
      if (!held.has(event.event_id) && event.refused === 0) break;
      to = event.seq;
    }
    this.writeWatermark.run(to, to);
    return to - from;
  }

  eventsFor(accountId: string): LedgerEvent[] {
    return this.db
      .prepare<[string], LedgerRow>(`SELECT ${COLUMNS} FROM ledger_events WHERE account_id = ? ORDER BY seq`)
      .all(accountId)
      .map(toEvent);
  }
}
