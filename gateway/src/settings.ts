import * as z from 'zod';
import { DEFAULT_TIME_ZONE, isTimeZone, MAX_FOLLOW_DAYS, TIME_ZONE_HINT } from '@tusafishe/protocol';
import { isSupportedCountry, type CountryCode } from '@tusafishe/protocol/phone';

/**
 * Per-kiosk tunables (balena device variables in the field). Durations in ms,
 * volumes in mL.
 */
export const Settings = z.object({
  /** IANA zone that defines the kiosk's "day" for daily limits. */
  timezone: z.string().refine(isTimeZone, TIME_ZONE_HINT).default(DEFAULT_TIME_ZONE),
  /** Country whose local number forms (`07…`) the keypad and UI accept; others are typed with their country code. */
  phoneRegion: z
    .string()
    .refine((region) => isSupportedCountry(region), 'must be an ISO 3166 country code, e.g. KE or UG')
    .transform((region) => region as CountryCode)
    .default('KE'),
  pinMaxFailures: z.int().min(1).max(20).default(5),
  pinLockoutMs: z
    .int()
    .min(1000)
    .default(15 * 60_000),
  /** Wrong keypad tokens in a row that lock a customer's token entry at this kiosk, and a dispenser's. */
  tokenMaxFailures: z.int().min(1).max(20).default(5),
  tokenDispenserMaxFailures: z.int().min(1).max(100).default(10),
  tokenLockoutMs: z
    .int()
    .min(1000)
    .default(15 * 60_000),
  /** Without a successful cloud contact for this long, the offline daily limit applies. */
  offlineAfterMs: z
    .int()
    .min(0)
    .default(15 * 60_000),
  offlineDailyLimitMl: z.int().min(0).default(20_000),
  /**
   * Whose balances the replica keeps current: `own` customers' (below), or `all` (every change
   * written: ~5.6 KB of the card a change anywhere in the fleet; for a small fleet, or a kiosk
   * with an endurance-rated card, whose offline customers are then served against their balance).
   */
  followBalances: z.enum(['own', 'all']).default('own'),
  /**
   * A customer's balance is followed (every change written to the replica) this long after their
   * last event in the kiosk's ledger; anyone else's is asked of the cloud, or bounded offline by
   * the offline daily limit (ARCHITECTURE §7, _A kiosk's SD card_).
   */
  followCustomersMs: z
    .int()
    .min(60 * 60_000)
    // The cloud sends a kiosk its followed customers' balances over at most this many days.
    .max(MAX_FOLLOW_DAYS * 24 * 60 * 60_000)
    .default(30 * 24 * 60 * 60_000),
  /** How long a dispense waits for the cloud's balance of a customer this kiosk does not follow. */
  customerLookupTimeoutMs: z.int().min(100).max(30_000).default(3000),
  /** Slowest flow a healthy dispenser delivers; bounds how long a hold may live. */
  holdMinFlowMlPerS: z.int().min(1).default(50),
  holdMarginMs: z.int().min(0).default(60_000),
  httpRateLimitPerMinute: z.int().min(1).default(120),
  /** Failed `POST /dispense-verification` answers per client address per window before 429. */
  verificationFailuresPerWindow: z.int().min(1).default(20),
  verificationFailureWindowMs: z
    .int()
    .min(1000)
    .default(15 * 60_000),
  /** Authorisation decisions are kept this long (repeats of a request_id come within minutes). */
  decisionRetentionMs: z
    .int()
    .min(1000)
    .default(24 * 60 * 60_000),
  /** Refused completions kept per dispenser for the technician (newest first); older ones are deleted. */
  refusedCompletionsPerDispenser: z.int().min(1).max(100_000).default(500),
  defaultPulsesPerLitre: z.int().min(1).max(100_000).default(450),
  /**
   * A completion may report at most this much more than approved (the firmware closes the
   * valve at the approved volume; a meter pulse or two can overshoot). Anything beyond is
   * not charged and is flagged as an excess for the technician.
   */
  overDeliveryToleranceMl: z.int().min(0).max(100_000).default(200),
});
export type Settings = z.infer<typeof Settings>;

/** Defaults filled in; throws a ZodError naming the field when an override is invalid. */
export function resolveSettings(overrides: Partial<Settings> = {}): Settings {
  return Settings.parse(overrides);
}
