import type { AuthResponse } from '@tusafishe/protocol';
import type { Db } from './database.js';

export interface DispenseSession {
  session_id: string;
  request_id: string;
  /** null for sessions opened by the seed-compatible HTTP endpoint. */
  dispenser_id: string | null;
  account_id: string;
  approved_ml: number;
  created_at: number;
  hold_expires_at: number;
  settled_at: number | null;
  event_id: string | null;
  delivered_ml: number | null;
}

export interface StoredDecision {
  dispenser_id: string | null;
  response: AuthResponse;
}

/**
 * A hold whose session has no dispense event yet. Its settlement writes only the event: the row goes
 * at the next approval (`open`), so a completion writes no page of `holds`.
 */
const UNSETTLED =
  "NOT EXISTS (SELECT 1 FROM ledger_events e WHERE e.type = 'dispense' AND e.source_id = holds.session_id)";

/** An unsettled session as `holds` keeps it. */
type OpenHold = Omit<DispenseSession, 'settled_at' | 'event_id' | 'delivered_ml'>;

/** A settled session as its ledger event keeps it. */
interface SettledRow {
  session_id: string;
  dispenser_id: string | null;
  account_id: string;
  event_id: string;
  occurred_at: number;
  details: string;
}

/**
 * Authorisation answers by request_id and dispense sessions. An unsettled session is a row of
 * `holds` without a dispense event, a hold on the customer's balance before its hold_expires_at;
 * a settled one is its ledger dispense event (migration 712).
 */
export class Holds {
  private readonly decisionById;
  private readonly insertDecision;
  private readonly insertHold;
  private readonly holdById;
  private readonly settledById;
  private readonly heldMl;
  private readonly openOnDispenser;
  private readonly dropSettled;
  private readonly deleteDecisionsBefore;

  constructor(db: Db) {
    this.decisionById = db.prepare<[string], { dispenser_id: string | null; response: string }>(
      'SELECT dispenser_id, response FROM auth_decisions WHERE request_id = ?',
    );
    this.insertDecision = db.prepare(
      'INSERT INTO auth_decisions (request_id, dispenser_id, response, decided_at) VALUES (?, ?, ?, ?)',
    );
    this.insertHold =
      db.prepare(`INSERT INTO holds (session_id, request_id, dispenser_id, account_id, approved_ml, created_at, hold_expires_at)
      VALUES (@session_id, @request_id, @dispenser_id, @account_id, @approved_ml, @created_at, @hold_expires_at)`);
    this.deleteDecisionsBefore = db.prepare('DELETE FROM auth_decisions WHERE decided_at < ?');
    this.holdById = db.prepare<[string], OpenHold>('SELECT * FROM holds WHERE session_id = ?');
    this.settledById = db.prepare<[string], SettledRow>(
      `SELECT source_id AS session_id, dispenser_id, account_id, event_id, occurred_at, details
      FROM ledger_events WHERE type = 'dispense' AND source_id = ?`,
    );
    // Scans: a handful of rows, no index to write at each hold (migration 712).
    this.heldMl = db
      .prepare<[string, number], number>(
        `SELECT coalesce(sum(approved_ml), 0) FROM holds WHERE account_id = ? AND hold_expires_at > ? AND ${UNSETTLED}`,
      )
      .pluck();
    this.openOnDispenser = db.prepare<[string, number], OpenHold>(
      `SELECT * FROM holds WHERE dispenser_id = ? AND hold_expires_at > ? AND ${UNSETTLED} LIMIT 1`,
    );
    this.dropSettled = db.prepare(`DELETE FROM holds WHERE NOT ${UNSETTLED}`);
  }

  findDecision(requestId: string): StoredDecision | undefined {
    const row = this.decisionById.get(requestId);
    return (
      row && {
        dispenser_id: row.dispenser_id,
        // Rows written before the response was stored without its key still hold it: the same value.
        response: { request_id: requestId, ...JSON.parse(row.response) } as AuthResponse,
      }
    );
  }

  /**
   * Stored without the request_id it is keyed by: with 1 KB pages a row of this keyed table over
   * ~230 bytes spills into an overflow page of its own, one more page written per decision.
   */
  recordDecision(dispenserId: string | null, response: AuthResponse, at: number): void {
    const { request_id, ...rest } = response;
    this.insertDecision.run(request_id, dispenserId, JSON.stringify(rest), at);
  }

  /** Deletes decisions made before `before`; returns how many. */
  pruneDecisions(before: number): number {
    return this.deleteDecisionsBefore.run(before).changes;
  }

  /** Opens a hold, and drops those settled since: in the page the new one is written to anyway. */
  open(session: OpenHold): void {
    this.dropSettled.run();
    this.insertHold.run(session);
  }

  /**
   * The settled session read back from its dispense event, else the unsettled one. Its created_at
   * and hold_expires_at are not kept after settlement: they read as its settled_at.
   */
  find(sessionId: string): DispenseSession | undefined {
    const row = this.settledById.get(sessionId);
    if (!row) {
      const hold = this.holdById.get(sessionId);
      return hold && unsettled(hold);
    }
    const details = JSON.parse(row.details) as { request_id: string; approved_ml: number; delivered_ml: number };
    return {
      session_id: row.session_id,
      request_id: details.request_id,
      dispenser_id: row.dispenser_id,
      account_id: row.account_id,
      approved_ml: details.approved_ml,
      created_at: row.occurred_at,
      hold_expires_at: row.occurred_at,
      settled_at: row.occurred_at,
      event_id: row.event_id,
      delivered_ml: details.delivered_ml,
    };
  }

  /** mL held for the customer by sessions still open at `now`. */
  heldMlFor(accountId: string, now: number): number {
    return this.heldMl.get(accountId, now) ?? 0;
  }

  openHoldOn(dispenserId: string, now: number): DispenseSession | undefined {
    const hold = this.openOnDispenser.get(dispenserId, now);
    return hold && unsettled(hold);
  }
}

function unsettled(hold: OpenHold): DispenseSession {
  return { ...hold, settled_at: null, event_id: null, delivered_ml: null };
}
