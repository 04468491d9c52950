import { newId } from '@tusafishe/protocol';
import type { Condition } from '../rules/kiosk-rules.js';

/** One occurrence of a condition, from raised to cleared. */
export interface HardwareAlert {
  /** UUIDv7 of this occurrence (the ledger notices' source_id). */
  id: string;
  key: string;
  severity: Condition['severity'];
  message: string;
  details: Record<string, unknown>;
  raisedAt: number;
}

export type AlertChange =
  | { kind: 'raised'; alert: HardwareAlert }
  | { kind: 'cleared'; alert: HardwareAlert; clearedAt: number };

/**
 * Active alerts by key. Fed the conditions that hold now, it reports which
 * appeared (raised) and which ended (cleared); a condition that persists is one
 * alert however often it is seen.
 */
export class AlertBook {
  private readonly alerts = new Map<string, HardwareAlert>();

  update(conditions: readonly Condition[], now: number): AlertChange[] {
    const changes: AlertChange[] = [];
    const holding = new Set(conditions.map((c) => c.key));
    for (const [key, alert] of this.alerts) {
      if (holding.has(key)) continue;
      this.alerts.delete(key);
      changes.push({ kind: 'cleared', alert, clearedAt: now });
    }
    for (const condition of conditions) {
      if (this.alerts.has(condition.key)) continue;
      const alert: HardwareAlert = { id: newId({ msecs: now }), ...condition, raisedAt: now };
      this.alerts.set(condition.key, alert);
      changes.push({ kind: 'raised', alert });
    }
    return changes;
  }

  active(): HardwareAlert[] {
    return [...this.alerts.values()];
  }
}
