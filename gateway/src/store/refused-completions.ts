import type { SessionComplete, SessionRefused } from '@tusafishe/protocol';
import type { Db } from './database.js';

export interface RefusedCompletion extends SessionComplete {
  dispenser_id: string;
  reason: SessionRefused['refused'];
  received_at: number;
}

/** Completions no session matched, kept for the technician (one row per dispenser and session). */
export class RefusedCompletions {
  private readonly insert;
  private readonly byDispenser;

  constructor(db: Db) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO refused_completions (dispenser_id, session_id, request_id, delivered_ml, pulses, end_reason, ended_at, reason, received_at)
       VALUES (@dispenser_id, @session_id, @request_id, @delivered_ml, @pulses, @end_reason, @ended_at, @reason, @received_at)`,
    );
    this.byDispenser = db.prepare<[string, number], RefusedCompletion>(
      'SELECT * FROM refused_completions WHERE dispenser_id = ? ORDER BY received_at DESC LIMIT ?',
    );
  }

  /** True when this completion was not kept yet. */
  record(completion: RefusedCompletion): boolean {
    return this.insert.run(completion).changes > 0;
  }

  forDispenser(dispenserId: string, limit = 50): RefusedCompletion[] {
    return this.byDispenser.all(dispenserId, limit);
  }
}
