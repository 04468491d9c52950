import { FIRMWARE_RELEASE_PUBLIC_KEY } from '@tusafishe/protocol';

/** What operators tune about fleet monitoring (cloud README, "Operations console: kiosks and alerts"). */
export interface FleetSettings {
  /** A kiosk with no pull or push for longer is offline, and raises `kiosk_offline`. */
  kioskOfflineAfterMs: number;
  /** A dispenser its gateway reports offline for longer raises `dispenser_offline`. */
  dispenserOfflineAfterMs: number;
  /** A customer balance below minus this raises `negative_balance`. */
  negativeBalanceAlertMl: number;
  /** A payment still pending after this raises `payment_pending`. */
  paymentPendingAlertMs: number;
  /** A kiosk's litres today above this many times its daily average (previous 14 days) raise `volume_anomaly`… */
  volumeAnomalyFactor: number;
  /** …once today's volume is at least this (a quiet kiosk's small day is no anomaly). */
  volumeAnomalyMinMl: number;
  /** How often the rules run (each tick on one instance only); 0 disables the job (tests run it by hand). */
  rulesIntervalMs: number;
  /** E.164 numbers that get every critical alert by SMS. */
  onCallPhones: string[];
  /** Raw Ed25519 key (base64) fleet firmware uploads must be signed with. */
  firmwarePublicKey: string;
  /** The console's live feed reads on every NOTIFY, and this often in case one was lost. */
  liveSafetyPollMs: number;
}

export const DEFAULT_FLEET_SETTINGS: FleetSettings = {
  kioskOfflineAfterMs: 10 * 60_000,
  dispenserOfflineAfterMs: 10 * 60_000,
  negativeBalanceAlertMl: 20_000,
  paymentPendingAlertMs: 60 * 60_000,
  volumeAnomalyFactor: 3,
  volumeAnomalyMinMl: 500_000,
  rulesIntervalMs: 30_000,
  onCallPhones: [],
  firmwarePublicKey: FIRMWARE_RELEASE_PUBLIC_KEY,
  liveSafetyPollMs: 30_000,
};
