import * as z from 'zod/mini';
import { AccountId, DispenserId, EpochMs, Id, KioskId } from './schema-parts.js';

/**
 * The ledger is the truth (ARCHITECTURE §3): balances are sums of immutable events,
 * merged across kiosks as a grow-only set keyed by `event_id`.
 */
export const BALANCE_EVENT_TYPES = ['topup', 'dispense', 'adjustment', 'reversal'] as const;
/**
 * Facts gateways learn and report without touching a balance. `pin_unlock`: a technician
 * cleared the customer's PIN lockout at a kiosk (`details.reason`, `details.technician`); the
 * cloud clears its lockout too, so every kiosk learns it from the customer record.
 */
export const NOTICE_EVENT_TYPES = ['pin_lockout', 'pin_unlock', 'alert_raised', 'alert_cleared'] as const;
export const LEDGER_EVENT_TYPES = [...BALANCE_EVENT_TYPES, ...NOTICE_EVENT_TYPES] as const;
export type LedgerEventType = (typeof LEDGER_EVENT_TYPES)[number];

export const LedgerEvent = z.object({
  event_id: Id,
  type: z.enum(LEDGER_EVENT_TYPES),
  /** Customer the event concerns; absent for kiosk alerts. */
  account_id: z.optional(AccountId),
  /** Signed change to the balance: + topup, − dispense; 0 for notices. */
  amount_ml: z.int().check(z.minimum(-1_000_000_000), z.maximum(1_000_000_000)),
  kiosk_id: z.optional(KioskId),
  dispenser_id: z.optional(DispenserId),
  /** Dispense session or payment the event settles; unique per type. */
  source_id: z.optional(z.string().check(z.maxLength(64))),
  occurred_at: EpochMs,
  details: z.optional(z.record(z.string(), z.unknown())),
});
export type LedgerEvent = z.infer<typeof LedgerEvent>;

export function affectsBalance(type: LedgerEventType): boolean {
  return (BALANCE_EVENT_TYPES as readonly string[]).includes(type);
}
