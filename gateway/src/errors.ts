import { TusafisheError } from '@tusafishe/protocol';

/**
 * The gateway's one error registry (fastify's `errors.js` style): every stable code, the HTTP
 * status it answers with and its message template, whose `%s` are filled, in order, by the
 * arguments `new GatewayError(code, …)` is given. Domain code throws `GatewayError`s and never
 * chooses a status or words a message; `http/answer-error.ts` answers them from here, so one code
 * always means one status on every route.
 */
const GATEWAY_ERRORS = {
  // Dispenser and technician requests.
  INVALID_REQUEST: { status: 400, message: '%s' },
  INVALID_QUERY: { status: 400, message: '%s' },
  WRONG_KIOSK: { status: 400, message: 'kiosk_id: this gateway serves kiosk %s' },
  UNKNOWN_SESSION: { status: 400, message: 'no session %s' },
  SESSION_MISMATCH: { status: 400, message: 'session %s belongs to another request or dispenser' },
  INVALID_PHONE: { status: 400, message: '%s' },
  INVALID_RANGE: { status: 400, message: '"to" must not be before "from"' },
  INVALID_FIRMWARE: { status: 400, message: '%s' },
  WEAK_PASSWORD: { status: 400, message: 'password must have at least %s characters' },
  INVALID_CREDENTIALS: { status: 401, message: 'wrong username or password' },
  NOT_SIGNED_IN: { status: 401, message: 'sign in first' },
  FORBIDDEN: { status: 403, message: 'this client may not verify' },
  CROSS_ORIGIN: { status: 403, message: 'cross-origin requests are refused' },
  UNKNOWN_DISPENSER: { status: 404, message: 'no dispenser %s' },
  UNKNOWN_CUSTOMER: { status: 404, message: 'no customer with %s at this kiosk' },
  UNKNOWN_DISPENSE: { status: 404, message: 'no dispense %s on %s' },
  UNKNOWN_FIRMWARE: { status: 404, message: 'no uploaded firmware %s' },
  USERNAME_TAKEN: { status: 409, message: 'technician "%s" already exists' },
  UNKNOWN_TECHNICIAN: { status: 404, message: 'no technician "%s"' },
  FIRMWARE_CONFLICT: { status: 409, message: 'already stored: %s (%s…)' },
  FIRMWARE_CURRENT: { status: 409, message: '%s already runs %s' },
  DISPENSER_BUSY: { status: 409, message: '%s is dispensing water; update it when the customer has finished' },
  DISPENSER_OFFLINE: { status: 409, message: '%s is offline; it cannot receive the update' },
  JSON_REQUIRED: { status: 415, message: 'state changes must be sent as %s' },
  CALIBRATION_OUT_OF_RANGE: {
    status: 422,
    message: '%s pulses for %s mL gives %s pulses per litre, outside %s–%s',
  },
  TECHNICIAN_LOCKED: { status: 423, message: 'too many wrong passwords: try again later' },
  RATE_LIMITED: { status: 429, message: 'too many failed verifications from this address' },
  READINGS_UNAVAILABLE: { status: 503, message: 'readings are not stored on this gateway' },
  DISPENSER_SILENT: { status: 504, message: 'the dispenser did not report the valve test; is it online?' },
  // A refused write reaches the dispense verification route; it has always answered 400.
  STORAGE_FAILED: { status: 400, message: 'storage failed (fsync): writes refused until restart' },
  // Startup, broker and operator commands only; never raised by a request.
  MIGRATION_FAILED: { status: 500, message: 'migration %s failed: %s' },
  MQTT_PACKET_TOO_LARGE: { status: 400, message: 'MQTT packet of %s bytes exceeds %s' },
  MQTT_PACKET_MALFORMED: { status: 400, message: 'MQTT remaining length longer than 4 bytes' },
  BROKER_BUSY: { status: 503, message: 'too many broker logins waiting; try again' },
  BACKUP_INVALID: { status: 400, message: '%s %s' },
  DATABASE_IN_USE: { status: 409, message: '%s is open in another process: stop the gateway first (%s)' },
} as const satisfies Record<string, { status: number; message: string }>;

/** Stable codes for everything the gateway refuses or fails at. */
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** One argument per `%s` of the template. */
type Placeholders<T extends string> = T extends `${string}%s${infer Rest}`
  ? [string | number, ...Placeholders<Rest>]
  : [];
type Details = Record<string, unknown>;

/** The template's arguments, then optionally details sent along in the answer (e.g. `locked_until`). */
export type GatewayErrorArgs<C extends GatewayErrorCode> = [
  ...Placeholders<(typeof GATEWAY_ERRORS)[C]['message']>,
  details?: Details,
];

function fill(template: string, args: readonly unknown[]): string {
  let next = 0;
  return template.replace(/%s/g, () => String(args[next++]));
}

export class GatewayError<C extends GatewayErrorCode = GatewayErrorCode> extends TusafisheError<C> {
  constructor(code: C, ...args: GatewayErrorArgs<C>) {
    const template: string = GATEWAY_ERRORS[code].message;
    const placeholders = template.split('%s').length - 1;
    const details = args.length > placeholders ? (args[placeholders] as Details) : undefined;
    super(code, fill(template, args.slice(0, placeholders)), details);
    this.name = 'GatewayError';
  }

  /** The HTTP status this error answers with, from the registry. */
  get status(): number {
    return GATEWAY_ERRORS[this.code].status;
  }
}
