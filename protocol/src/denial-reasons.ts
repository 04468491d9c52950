/**
 * Stable reasons a dispense is refused. The code travels on the wire and into logs;
 * the text is what the dispenser's 20-character LCD shows.
 */
export const DENIAL_REASONS = {
  INVALID_REQUEST: 'Invalid request',
  UNKNOWN_CUSTOMER: 'Number not found',
  ACCOUNT_INACTIVE: 'Account inactive',
  ACCOUNT_EXPIRED: 'Account expired',
  LOCKED_OUT: 'Locked: try later',
  WRONG_PIN: 'Wrong PIN',
  KIOSK_NOT_ALLOWED: 'Not allowed here',
  INSUFFICIENT_BALANCE: 'Not enough credit',
  DAILY_LIMIT: 'Daily limit reached',
  OFFLINE_LIMIT: 'Offline limit hit',
  DISPENSER_BUSY: 'Dispenser busy',
  DISPENSER_DISABLED: 'Out of service',
  TANK_LOW: 'Tank empty',
  UV_FAULT: 'UV fault: no water',
  WATER_QUALITY: 'Water quality alarm',
  /** The kiosk's disk is full: nothing new can be recorded until space is freed. */
  STORAGE_FULL: 'Kiosk full: no water',
  /** The kiosk's storage failed (fsync): nothing can be recorded until a technician restarts it. */
  STORAGE_FAULT: 'Kiosk fault: no sale',
} as const;

export type DenialCode = keyof typeof DENIAL_REASONS;

export const DENIAL_CODES = Object.keys(DENIAL_REASONS) as [DenialCode, ...DenialCode[]];

export const LCD_COLUMNS = 20;
export const LCD_ROWS = 4;

export function denialText(code: DenialCode): string {
  return DENIAL_REASONS[code];
}
