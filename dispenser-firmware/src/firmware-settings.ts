import { HEARTBEAT_INTERVAL_MS } from '@tusafishe/protocol';

export const FIRMWARE_VERSION = 'tusafishe-fw/0.1.0';
/** The anti-rollback counter this build was released with (firmware sign --counter). */
export const FIRMWARE_COUNTER = 1;

/** Who this dispenser is on the broker: username = dispenser id, client id = username. */
export interface DispenserIdentity {
  id: string;
  username: string;
  password: string;
}

/** Timings of the firmware itself (the gateway's DispenserConfig sets the rest). */
export interface FirmwareTimings {
  /** Inactivity on an entry screen before returning to idle. */
  entryTimeoutMs: number;
  /** How long a result screen (denied, thank you) stays. */
  messageMs: number;
  /** An unanswered AuthRequest is sent again (same request id) this often… */
  authRetryMs: number;
  /** …until this much time has passed; then the customer is told the gateway does not answer. */
  authTimeoutMs: number;
  /** Unacknowledged SessionCompletes are sent again this often. */
  completeRetryMs: number;
  /** While water flows: pulses persisted, progress published and LCD refreshed this often. */
  flowTickMs: number;
  heartbeatMs: number;
  /** MQTT keep-alive; a silent broker is noticed after ~1.5× this. */
  keepaliveSeconds: number;
}

export const DEFAULT_TIMINGS: FirmwareTimings = {
  entryTimeoutMs: 30_000,
  messageMs: 5_000,
  authRetryMs: 3_000,
  authTimeoutMs: 15_000,
  completeRetryMs: 5_000,
  flowTickMs: 500,
  heartbeatMs: HEARTBEAT_INTERVAL_MS,
  keepaliveSeconds: 5,
};
