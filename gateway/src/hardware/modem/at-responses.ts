import { HardwareError } from '../hardware-error.js';

/**
 * Parsers for the SIM7670G (3GPP TS 27.005/27.007) answers the kiosk uses.
 * Each takes the information lines of one command.
 */

export type Registration = 'not_registered' | 'home' | 'searching' | 'denied' | 'unknown' | 'roaming';
const REGISTRATION_STATES: Record<string, Registration> = {
  '0': 'not_registered',
  '1': 'home',
  '2': 'searching',
  '3': 'denied',
  '4': 'unknown',
  '5': 'roaming',
};

/** Final result codes that end a command in failure. */
export const FAILURE_RESULT = /^(ERROR|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE|\+CM[ES] ERROR:.*)$/;

/** Unsolicited result codes the SIM7670G sends on its own. */
const UNSOLICITED = [
  /^\+CMTI:/, // new SMS stored
  /^\+CMT:/,
  /^\+CDS:/,
  /^RING$/,
  /^\+CLIP:/,
  /^\+CREG: \d$/, // registration change (the answer to AT+CREG? has two fields)
  /^\+CEREG: \d$/,
  /^\+CGEV:/,
  /^\+CPIN: /,
  /^\+CPSI:/,
  /^(SMS|PB) DONE$/,
  /^\*ATREADY/,
  /^RDY$/,
];

export function isUnsolicited(line: string): boolean {
  return UNSOLICITED.some((pattern) => pattern.test(line));
}

/** `+CSQ: <rssi>,<ber>` → dBm (27.007: 0 = −113 dBm or less, 31 = −51 or more, 99 = unknown). */
export function parseSignal(lines: readonly string[]): { rssi: number; dbm: number | null } {
  const [rssiText] = fields(lines, '+CSQ:', 2);
  const rssi = Number(rssiText);
  if (!Number.isInteger(rssi) || rssi < 0 || (rssi > 31 && rssi !== 99)) throw badResponse('+CSQ', lines);
  return { rssi, dbm: rssi === 99 ? null : -113 + 2 * rssi };
}

/** `+CREG: <n>,<stat>[,…]` / `+CEREG: <n>,<stat>[,…]`. */
export function parseRegistration(lines: readonly string[], prefix: '+CREG:' | '+CEREG:'): Registration {
  const [, stat] = fields(lines, prefix, 2);
  const state = REGISTRATION_STATES[stat ?? ''];
  if (!state) throw badResponse(prefix, lines);
  return state;
}

export function isRegistered(registration: Registration): boolean {
  return registration === 'home' || registration === 'roaming';
}

/** `+COPS: <mode>[,<format>,"<oper>"[,<AcT>]]` → operator name, or null while none is selected. */
export function parseOperator(lines: readonly string[]): string | null {
  const line = infoLine(lines, '+COPS:');
  const match = /^\+COPS:\s*\d+(?:,\d+,"([^"]*)")?/.exec(line);
  if (!match) throw badResponse('+COPS', lines);
  return match[1] ?? null;
}

/** `+CPIN: READY` | `SIM PIN` | `SIM PUK` | … */
export function parseSimState(lines: readonly string[]): string {
  return infoLine(lines, '+CPIN:').slice('+CPIN:'.length).trim();
}

/** `+CMGS: <mr>`: the network's message reference for a sent SMS. */
export function parseMessageReference(lines: readonly string[]): number {
  const reference = Number(fields(lines, '+CMGS:', 1)[0]);
  if (!Number.isInteger(reference)) throw badResponse('+CMGS', lines);
  return reference;
}

/** 27.007 +CME error codes that describe the SIM rather than a failure of the modem. */
export const SIM_CME_ERRORS: Record<string, string> = {
  '10': 'NOT INSERTED',
  '11': 'SIM PIN',
  '12': 'SIM PUK',
  '13': 'SIM FAILURE',
  '14': 'SIM BUSY',
  '15': 'SIM WRONG',
};

function infoLine(lines: readonly string[], prefix: string): string {
  const line = lines.find((l) => l.startsWith(prefix));
  if (line === undefined) throw badResponse(prefix, lines);
  return line;
}

function fields(lines: readonly string[], prefix: string, count: number): string[] {
  const parts = infoLine(lines, prefix)
    .slice(prefix.length)
    .split(',')
    .map((s) => s.trim());
  if (parts.length < count) throw badResponse(prefix, lines);
  return parts;
}

function badResponse(what: string, lines: readonly string[]): HardwareError {
  return new HardwareError('MODEM_BAD_RESPONSE', `unexpected answer to ${what}: ${JSON.stringify(lines)}`);
}
