import { TusafisheError } from '@tusafishe/protocol';

/**
 * The gateway's one error registry: every stable code and the HTTP status it answers with.
 * Domain code throws `GatewayError(code, …)` and never chooses a status; `http/answer-error.ts`
 * looks it up here, so one code always means one status on every route.
 */
const GATEWAY_ERRORS = {
  // Dispenser and technician requests.
  INVALID_REQUEST: 400,
  WRONG_KIOSK: 400,
  UNKNOWN_SESSION: 400,
  SESSION_MISMATCH: 400,
  INVALID_PHONE: 400,
  INVALID_RANGE: 400,
  INVALID_FIRMWARE: 400,
  WEAK_PASSWORD: 400,
  INVALID_CREDENTIALS: 401,
  NOT_SIGNED_IN: 401,
  CROSS_ORIGIN: 403,
  UNKNOWN_DISPENSER: 404,
  UNKNOWN_CUSTOMER: 404,
  UNKNOWN_DISPENSE: 404,
  UNKNOWN_FIRMWARE: 404,
  USERNAME_TAKEN: 409,
  FIRMWARE_CONFLICT: 409,
  FIRMWARE_CURRENT: 409,
  DISPENSER_BUSY: 409,
  DISPENSER_OFFLINE: 409,
  JSON_REQUIRED: 415,
  CALIBRATION_OUT_OF_RANGE: 422,
  TECHNICIAN_LOCKED: 423,
  DISPENSER_SILENT: 504,
  // A refused write reaches the dispense verification route; it has always answered 400.
  STORAGE_FAILED: 400,
  // Startup, broker and operator commands only; never raised by a request.
  INVALID_CONFIG: 500,
  MIGRATION_FAILED: 500,
  MQTT_PACKET_TOO_LARGE: 400,
  MQTT_PACKET_MALFORMED: 400,
  BROKER_BUSY: 503,
  BACKUP_INVALID: 400,
  DATABASE_IN_USE: 409,
} as const satisfies Record<string, number>;

/** Stable codes for everything the gateway refuses or fails at. */
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

export class GatewayError extends TusafisheError<GatewayErrorCode> {
  constructor(code: GatewayErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'GatewayError';
  }

  /** The HTTP status this error answers with, from the registry. */
  get status(): number {
    return GATEWAY_ERRORS[this.code];
  }
}
