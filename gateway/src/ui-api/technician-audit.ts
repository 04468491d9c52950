import type { Database } from 'better-sqlite3';
import { newId } from '@tusafishe/protocol';

type AuditAction =
  | 'sign_in'
  | 'sign_out'
  | 'customer_unlock'
  | 'calibration'
  | 'valve_test'
  | 'firmware_upload'
  | 'firmware_update';

export interface AuditEntry {
  technicianId: string | null;
  action: AuditAction;
  target?: string;
  reason?: string;
  details?: Record<string, unknown>;
}

/** Appends one line to the audit trail of technician actions. */
export function recordAudit(db: Database, entry: AuditEntry, now: number = Date.now()): void {
  db.prepare(
    `INSERT INTO technician_audit (audit_id, technician_id, action, target, reason, details, occurred_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    newId(),
    entry.technicianId,
    entry.action,
    entry.target ?? null,
    entry.reason ?? null,
    entry.details ? JSON.stringify(entry.details) : null,
    now,
  );
}
