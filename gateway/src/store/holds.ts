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
 * Authorisation answers by request_id and dispense sessions. An unsettled session
 * before its hold_expires_at is a hold on the customer's balance.
 */
export class Holds {
  private readonly decisionById;
  private readonly insertDecision;
  private readonly insertSession;
  private readonly byId;
  private readonly heldMl;
  private readonly openOnDispenser;
  private readonly settle;
  private readonly deleteDecisionsBefore;

  constructor(db: Db) {
    this.decisionById = db.prepare<[string], { dispenser_id: string | null; response: string }>(
      'SELECT dispenser_id, response FROM auth_decisions WHERE request_id = ?',
    );
    this.insertDecision = db.prepare(
      'INSERT INTO auth_decisions (request_id, dispenser_id, response, decided_at) VALUES (?, ?, ?, ?)',
    );
    this.insertSession =
      db.prepare(`INSERT INTO sessions (session_id, request_id, dispenser_id, account_id, approved_ml, created_at, hold_expires_at)
      VALUES (@session_id, @request_id, @dispenser_id, @account_id, @approved_ml, @created_at, @hold_expires_at)`);
    this.deleteDecisionsBefore = db.prepare('DELETE FROM auth_decisions WHERE decided_at < ?');
    this.byId = db.prepare<[string], DispenseSession>('SELECT * FROM sessions WHERE session_id = ?');
    this.heldMl = db
      .prepare<[string, number], number>(
        'SELECT coalesce(sum(approved_ml), 0) FROM sessions WHERE account_id = ? AND settled_at IS NULL AND hold_expires_at > ?',
      )
      .pluck();
    this.openOnDispenser = db.prepare<[string, number], DispenseSession>(
      'SELECT * FROM sessions WHERE dispenser_id = ? AND settled_at IS NULL AND hold_expires_at > ? LIMIT 1',
    );
    this.settle = db.prepare(
      'UPDATE sessions SET settled_at = @settled_at, event_id = @event_id, delivered_ml = @delivered_ml WHERE session_id = @session_id AND settled_at IS NULL',
    );
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

  open(session: Omit<DispenseSession, 'settled_at' | 'event_id' | 'delivered_ml'>): void {
    this.insertSession.run(session);
  }

  find(sessionId: string): DispenseSession | undefined {
    return this.byId.get(sessionId);
  }

  /** mL held for the customer by sessions still open at `now`. */
  heldMlFor(accountId: string, now: number): number {
    return this.heldMl.get(accountId, now) ?? 0;
  }

  openHoldOn(dispenserId: string, now: number): DispenseSession | undefined {
    return this.openOnDispenser.get(dispenserId, now);
  }

  markSettled(sessionId: string, eventId: string, deliveredMl: number, at: number): boolean {
    return (
      this.settle.run({ session_id: sessionId, event_id: eventId, delivered_ml: deliveredMl, settled_at: at })
        .changes === 1
    );
  }
}
