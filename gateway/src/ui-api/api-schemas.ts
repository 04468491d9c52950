import { z } from 'zod';
import { DEFAULT_LOG_RING_CAPACITY, LOG_RING_LEVELS } from '../log-ring.js';

/**
 * Shapes of the technician API. The server validates with them and the UI imports the
 * inferred types (type-only, so no zod reaches the browser bundle).
 */
export const ErrorBody = z.object({ code: z.string(), message: z.string() });

export const SignInBody = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(200),
});
export const Me = z.object({ username: z.string() });
export const SignedOut = z.object({ signed_out: z.literal(true) });

export const HardwareView = z.object({
  mode: z.enum(['hardware', 'simulated']),
  tank: z.object({ level_percent: z.number().nullable(), low_float_wet: z.boolean(), high_float_wet: z.boolean() }),
  water_quality: z.object({
    ok: z.boolean().nullable(),
    readings: z.array(
      z.object({
        sensor: z.string(),
        value: z.number().nullable(),
        unit: z.string(),
        in_range: z.boolean().nullable(),
        status: z.string(),
      }),
    ),
  }),
  pump: z.enum(['on', 'off']),
  uv: z.enum(['on', 'off', 'fault']),
  door: z.enum(['open', 'closed']),
  modem: z
    .object({
      state: z.string(),
      registered: z.boolean(),
      signal_dbm: z.number().nullable(),
      operator: z.string().nullable(),
    })
    .nullable(),
  /** Why no dispense may start now (e.g. TANK_LOW), or null. */
  interlock: z.string().nullable(),
  alerts: z.array(z.object({ code: z.string(), severity: z.string(), message: z.string(), since: z.number().int() })),
});
export type HardwareView = z.infer<typeof HardwareView>;

export const SyncView = z.object({
  enabled: z.boolean(),
  online: z.boolean(),
  /** No cloud contact for a while: the offline daily limit applies. */
  offline_limit_active: z.boolean(),
  last_contact_at: z.number().int().nullable(),
  last_pull_at: z.number().int().nullable(),
  last_push_at: z.number().int().nullable(),
  events_waiting: z.number().int().min(0),
  cursor: z.string().nullable(),
  last_error: z.string().nullable(),
});
export type SyncView = z.infer<typeof SyncView>;

export const DispenserSummary = z.object({
  dispenser_id: z.string(),
  online: z.boolean(),
  enabled: z.boolean(),
  firmware: z.string().nullable(),
  last_seen_at: z.number().int().nullable(),
  rssi_dbm: z.number().int().nullable(),
  pulses_per_litre: z.number().int(),
});
export type DispenserSummary = z.infer<typeof DispenserSummary>;

export const Overview = z.object({
  kiosk_id: z.string(),
  now: z.number().int(),
  dispensers: z.array(DispenserSummary),
  today: z.object({ dispensed_ml: z.number().int(), dispenses: z.number().int() }),
  hardware: HardwareView.nullable(),
  sync: SyncView.nullable(),
});
export type Overview = z.infer<typeof Overview>;

export const RecentDispense = z.object({
  session_id: z.string(),
  account_id: z.string().nullable(),
  delivered_ml: z.number().int(),
  pulses: z.number().int().nullable(),
  occurred_at: z.number().int(),
});
export type RecentDispense = z.infer<typeof RecentDispense>;

export const DispenserDetail = DispenserSummary.extend({
  presets_ml: z.array(z.number().int()),
  max_ml: z.number().int(),
  heartbeat: z
    .object({
      uptime_s: z.number().int(),
      free_heap: z.number().int(),
      dispenses: z.number().int(),
      delivered_ml: z.number().int(),
      errors: z.number().int(),
      state: z.string().nullable(),
    })
    .nullable(),
  recent_dispenses: z.array(RecentDispense),
  /** Completions no session matched: never charged, kept for the technician to reconcile. */
  refused_completions: z.array(
    z.object({
      session_id: z.string(),
      delivered_ml: z.number().int(),
      end_reason: z.string(),
      ended_at: z.number().int(),
      reason: z.string(),
      received_at: z.number().int(),
    }),
  ),
});
export type DispenserDetail = z.infer<typeof DispenserDetail>;

export const DispenserParams = z.object({ dispenserId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/) });

export const CalibrationBody = z.object({
  session_id: z.uuid(),
  /** What the measuring jug shows, in mL. */
  measured_ml: z.number().int().min(50).max(100_000),
});
export const CalibrationResult = z.object({
  dispenser_id: z.string(),
  old_pulses_per_litre: z.number().int(),
  new_pulses_per_litre: z.number().int(),
  pulses: z.number().int(),
  measured_ml: z.number().int(),
});
export type CalibrationResult = z.infer<typeof CalibrationResult>;

export const ValveTestBody = z.object({ duration_ms: z.number().int().min(100).max(30_000) });
export const ValveTestResult = z.object({
  ok: z.boolean(),
  message: z.string().nullable(),
  delivered_ml: z.number().int().nullable(),
  pulses: z.number().int().nullable(),
});
export type ValveTestResult = z.infer<typeof ValveTestResult>;

export const CustomerQuery = z.object({ q: z.string().trim().min(1).max(40) });
export const CustomerView = z.object({
  account_id: z.string(),
  phone: z.string(),
  name: z.string(),
  status: z.string(),
  balance_ml: z.number().int(),
  /**
   * False for a customer whose balance this kiosk does not follow, when the cloud could not be
   * asked: `balance_ml` is the last it knew, and the offline daily limit bounds what they draw.
   */
  balance_known: z.boolean(),
  today_ml: z.number().int(),
  daily_limit_ml: z.number().int().nullable(),
  locked_until: z.number().int().nullable(),
  failed_pins: z.number().int(),
});
export type CustomerView = z.infer<typeof CustomerView>;
export const CustomerParams = z.object({ accountId: z.string().regex(/^[A-Z0-9]{4,16}$/) });
export const UnlockBody = z.object({ reason: z.string().trim().min(3).max(200) });

export const UsageQuery = z.object({ range: z.enum(['day', 'week']).default('day') });
export const Usage = z.object({
  range: z.enum(['day', 'week']),
  /** The kiosk's IANA zone, in which the buckets are local hours/days. */
  timezone: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  /** One bucket per hour (day) or per day (week). */
  buckets: z.array(z.object({ start: z.number().int(), ml: z.number().int() })),
  by_dispenser: z.array(z.object({ dispenser_id: z.string(), ml: z.number().int() })),
  /** Tank level (%) over the range; null when the kiosk has no tank sensor or keeps no readings. */
  tank: z.array(z.object({ at: z.number().int(), percent: z.number() })).nullable(),
});
export type Usage = z.infer<typeof Usage>;

export const TransactionsQuery = z.object({
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
});

export const LogsQuery = z.object({
  level: z.enum(LOG_RING_LEVELS).default('info'),
  module: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(DEFAULT_LOG_RING_CAPACITY).default(200),
});
export const LogEntry = z.object({
  seq: z.number().int(),
  time: z.number().int(),
  level: z.enum(LOG_RING_LEVELS),
  module: z.string(),
  msg: z.string(),
  fields: z.record(z.string(), z.unknown()),
});
export const LogsAnswer = z.object({
  /** The kiosk's IANA zone, in which the UI shows the times. */
  timezone: z.string(),
  /** How many entries the gateway keeps. */
  capacity: z.number().int(),
  /** Modules that have entries in the ring, for the filter. */
  modules: z.array(z.string()),
  entries: z.array(LogEntry),
});
export type LogsAnswer = z.infer<typeof LogsAnswer>;
export type LogEntryView = z.infer<typeof LogEntry>;

/** Messages the live feed websocket pushes. */
export type LiveMessage =
  | {
      type: 'dispense';
      event_id: string;
      dispenser_id: string | null;
      account_id: string | null;
      delivered_ml: number;
      /** Reported beyond approved + tolerance: not charged (0 when none). */
      excess_ml: number;
      occurred_at: number;
    }
  | {
      /** A keypad token credited offline (ARCHITECTURE §5a). */
      type: 'token-redemption';
      event_id: string;
      dispenser_id: string | null;
      account_id: string | null;
      credit_ml: number;
      counter: number;
      occurred_at: number;
    }
  | {
      type: 'completion-refused';
      dispenser_id: string;
      session_id: string;
      delivered_ml: number;
      reason: string;
      at: number;
    }
  | { type: 'authorisation'; dispenser_id: string | null; approved: boolean; reason: string | null; at: number }
  | { type: 'dispenser-status'; dispenser_id: string; online: boolean; at: number }
  | { type: 'progress'; dispenser_id: string; session_id: string; delivered_ml: number; at: number }
  | {
      type: 'command-result';
      dispenser_id: string;
      command_id: string;
      ok: boolean;
      message: string | null;
      at: number;
    };
