import type { SessionComplete, SessionRefused } from '@tusafishe/protocol';
import type { Db } from './database.js';

export interface RefusedCompletion extends SessionComplete {
  dispenser_id: string;
  reason: SessionRefused['refused'];
  received_at: number;
}

/**
 * Completions no session matched, kept for the technician (one row per dispenser and session,
 * the newest `keep` per dispenser: a hostile or broken dispenser cannot fill the disk with them).
 */
export class RefusedCompletions {
  private readonly insert;
  private readonly trim;
  private readonly byDispenser;

  constructor(db: Db) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO refused_completions (dispenser_id, session_id, request_id, delivered_ml, pulses, end_reason, ended_at, reason, received_at)
       VALUES (@dispenser_id, @session_id, @request_id, @delivered_ml, @pulses, @end_reason, @ended_at, @reason, @received_at)`,
    );
    this.trim = db.prepare<[string, string, number]>(
      `DELETE FROM refused_completions WHERE dispenser_id = ? AND session_id NOT IN
         (SELECT session_id FROM refused_completions WHERE dispenser_id = ? ORDER BY received_at DESC, rowid DESC LIMIT ?)`,
    );
    this.byDispenser = db.prepare<[string, number], RefusedCompletion>(
      'SELECT * FROM refused_completions WHERE dispenser_id = ? ORDER BY received_at DESC LIMIT ?',
    );
  }

  /** True when this completion was not kept yet; then only the dispenser's newest `keep` stay. */
  record(completion: RefusedCompletion, keep: number): boolean {
    if (this.insert.run(completion).changes === 0) return false;
    this.trim.run(completion.dispenser_id, completion.dispenser_id, keep);
    return true;
  }

  forDispenser(dispenserId: string, limit = 50): RefusedCompletion[] {
    return this.byDispenser.all(dispenserId, limit);
  }
}
