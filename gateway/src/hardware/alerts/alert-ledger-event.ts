import { newId, type LedgerEvent } from '@tusafishe/protocol';
import type { AlertChange } from './alert-book.js';

/**
 * An alert change as the ledger notice that carries it to the cloud on the
 * sync path: `alert_raised` / `alert_cleared`, no balance effect, keyed by the
 * alert occurrence so a replay counts once.
 */
export function alertLedgerEvent(change: AlertChange, kioskId: string): LedgerEvent {
  const { alert } = change;
  const occurredAt = change.kind === 'raised' ? alert.raisedAt : change.clearedAt;
  return {
    event_id: newId({ msecs: occurredAt }),
    type: change.kind === 'raised' ? 'alert_raised' : 'alert_cleared',
    amount_ml: 0,
    kiosk_id: kioskId,
    source_id: alert.id,
    occurred_at: occurredAt,
    details: {
      alert: alert.key,
      severity: alert.severity,
      message: alert.message,
      raised_at: alert.raisedAt,
      ...alert.details,
    },
  };
}
