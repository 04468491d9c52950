import * as z from 'zod/mini';
import { DispenserId, EpochMs, Id } from './schema-parts.js';

/**
 * The compact kiosk status a gateway sends with its sync (`POST /kiosk/v1/status`, at most once a
 * minute, sooner only while a fleet firmware rollout moves), so operators see every kiosk in the
 * console: what the gateway runs, what it has not pushed yet, its dispensers, tank and water, and
 * how its authorisations went hour by hour. The answer names the fleet firmware rollout (if any)
 * this kiosk should run.
 */
export const STATUS_PATH = '/kiosk/v1/status';
/** `GET` the signed firmware file (`.tsfw`) of a fleet rollout by its image's SHA-256. */
export const firmwarePath = (sha256: string): string => `/kiosk/v1/firmware/${sha256}`;

/** `approved`, or the denial code (a pattern, not the list: a newer gateway's new code must not void the report). */
export const AuthOutcome = z.string().check(z.regex(/^(approved|[A-Z][A-Z_]{0,39})$/));

/** One hour's count of one outcome; a re-sent hour replaces the cloud's count, never adds to it. */
export const AuthCount = z.object({
  /** Start of the hour (UTC), epoch ms. */
  hour: EpochMs.check(z.refine((ms) => ms % 3_600_000 === 0, 'the start of an hour')),
  outcome: AuthOutcome,
  count: z.int().check(z.minimum(0), z.maximum(1_000_000)),
});
export type AuthCount = z.infer<typeof AuthCount>;

export const DispenserState = z.object({
  dispenser_id: DispenserId,
  online: z.boolean(),
  firmware: z.nullable(z.string().check(z.maxLength(32))),
  last_seen_at: z.nullable(EpochMs),
});

export const FIRMWARE_STEP_STATES = ['waiting', 'pending', 'downloading', 'installed', 'confirmed', 'failed'] as const;
export const FIRMWARE_KIOSK_STATES = ['downloading', 'rolling', 'done', 'failed', 'stopped'] as const;

/** Where this kiosk's local staged rollout of a fleet rollout stands. */
export const FirmwareProgress = z.object({
  rollout_id: Id,
  state: z.enum(FIRMWARE_KIOSK_STATES),
  message: z.nullable(z.string().check(z.maxLength(300))),
  dispensers: z
    .array(
      z.object({
        dispenser_id: DispenserId,
        state: z.enum(FIRMWARE_STEP_STATES),
        message: z.nullable(z.string().check(z.maxLength(300))),
      }),
    )
    .check(z.maxLength(64)),
});
export type FirmwareProgress = z.infer<typeof FirmwareProgress>;

export const KioskStatusReport = z.object({
  at: EpochMs,
  gateway_version: z.string().check(z.minLength(1), z.maxLength(64)),
  /** Ledger events not yet acknowledged by the cloud. */
  events_waiting: z.int().check(z.minimum(0)),
  dispensers: z.array(DispenserState).check(z.maxLength(64)),
  /** Null without a tank level sensor (or while it is silent). */
  tank_level_pct: z.nullable(z.number().check(z.minimum(0), z.maximum(100))),
  /** `unknown` without quality sensors or while they are silent. */
  water_quality: z.enum(['ok', 'unsafe', 'unknown']),
  /** Hours whose counts changed since the last report the cloud accepted (at most two days). */
  auth_counts: z.array(AuthCount).check(z.maxLength(2000)),
  firmware: z.optional(FirmwareProgress),
});
export type KioskStatusReport = z.infer<typeof KioskStatusReport>;

/** The fleet rollout this kiosk should run now; null: none (a rollout in progress is stopped). */
export const FirmwareDirective = z.object({
  rollout_id: Id,
  version: z.string().check(z.minLength(1), z.maxLength(32)),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  size: z.int().check(z.minimum(1)),
});
export type FirmwareDirective = z.infer<typeof FirmwareDirective>;

export const KioskStatusAnswer = z.object({ firmware: z.nullable(FirmwareDirective) });
export type KioskStatusAnswer = z.infer<typeof KioskStatusAnswer>;
