import { groupTokenDigits, LCD_COLUMNS, LCD_ROWS, type SessionEndReason } from '@tusafishe/protocol';

/** Four lines of exactly twenty characters, ready for the LCD. */
export type Screen = readonly string[];

export function screen(...lines: string[]): Screen {
  const rows: string[] = [];
  for (let row = 0; row < LCD_ROWS; row++) rows.push((lines[row] ?? '').slice(0, LCD_COLUMNS).padEnd(LCD_COLUMNS));
  return rows;
}

/** 5000 → "5L", 1500 → "1.5L", 1234 → "1.23L" (truncated: never shows more than delivered). */
export function litres(ml: number): string {
  const centilitres = Math.floor(ml / 10);
  const whole = Math.floor(centilitres / 100);
  const fraction = centilitres % 100;
  if (!fraction) return `${whole}L`;
  return `${whole}.${String(fraction).padStart(2, '0').replace(/0$/, '')}L`;
}

export const idleScreen = (): Screen =>
  screen('Tusafishe water', 'Enter phone number', 'then press #', 'A=add credit token');

/** Keypad token (ARCHITECTURE §5a): `A` on the idle screen, phone number #, the 15 digits #. */
export const tokenPhoneScreen = (digits: string): Screen =>
  screen('Add credit token', 'Phone number:', `${digits}_`, '*=delete  #=next');

/** The token grouped as the SMS shows it; `typo`: the check digit says a digit is wrong. */
export function tokenScreen(digits: string, typo = false): Screen {
  return screen(
    typo ? 'Check the token:' : 'Token (15 digits):',
    `${groupTokenDigits(digits)}_`,
    '',
    '*=delete  #=add',
  );
}

export const redeemingScreen = (): Screen => screen('Checking token...', 'Please wait');

/** The gateway's answer: what was added and the balance, or why not (attempts left before a lockout). */
export function tokenResultScreen(
  message: string,
  creditMl: number | undefined,
  balanceMl: number | undefined,
  attemptsLeft?: number,
): Screen {
  return screen(
    message,
    creditMl === undefined ? '' : `Token: ${litres(creditMl)}`,
    attemptsLeft !== undefined
      ? `${attemptsLeft} attempts left`
      : balanceMl === undefined
        ? ''
        : `Balance ${litres(Math.max(0, balanceMl))}`,
    'Press any key',
  );
}

export const unreachableScreen = (): Screen =>
  screen('Tusafishe water', 'Gateway unreachable', 'No water for now', 'Please wait...');

export const disabledScreen = (): Screen => screen('Tusafishe water', 'Out of service', 'Sorry!');

export const phoneScreen = (digits: string): Screen => screen('Phone number:', `${digits}_`, '', '*=delete  #=next');

export const pinScreen = (length: number): Screen => screen('PIN:', `${'*'.repeat(length)}_`, '', '*=delete  #=next');

/** `maxMl` is shown when the typed litres exceed what one dispense may be. */
export function volumeScreen(presetsMl: readonly number[], typedLitres: string, maxMl?: number): Screen {
  const presets = presetsMl.map((ml, index) => `${'ABCD'[index]} ${litres(ml)}`.padEnd(10));
  const prompt =
    maxMl !== undefined
      ? `Max ${litres(maxMl)}: ${typedLitres}_`
      : typedLitres
        ? `Litres: ${typedLitres}_ #=OK`
        : 'or litres then #';
  return screen(
    'Choose volume:',
    (presets[0] ?? '') + (presets[1] ?? ''),
    (presets[2] ?? '') + (presets[3] ?? ''),
    prompt,
  );
}

export const authorisingScreen = (requestedMl: number): Screen =>
  screen('Checking account...', `Requested ${litres(requestedMl)}`, 'Please wait');

export function deniedScreen(message: string, attemptsLeft?: number): Screen {
  return screen('Sorry:', message, attemptsLeft === undefined ? '' : `${attemptsLeft} attempts left`, 'Press any key');
}

export const noAnswerScreen = (): Screen => screen('Sorry:', 'Gateway not', 'responding', 'Please try again');

export const dispensingScreen = (deliveredMl: number, approvedMl: number): Screen =>
  screen('Dispensing...', `${litres(deliveredMl)} of ${litres(approvedMl)}`, '', '*=stop');

const END_TEXT: Record<SessionEndReason, string> = {
  target_reached: 'Thank you!',
  cancelled: 'Stopped',
  no_flow: 'Stopped: no flow',
  gateway_lost: 'Stopped: no gateway',
  power_loss: 'Power was lost',
  error: 'Stopped: fault',
};

export function doneScreen(reason: SessionEndReason, deliveredMl: number, balanceMl: number | undefined): Screen {
  return screen(
    END_TEXT[reason],
    `Delivered ${litres(deliveredMl)}`,
    balanceMl === undefined ? 'Saving...' : `Balance ${litres(Math.max(0, balanceMl))}`,
  );
}

export const valveTestScreen = (deliveredMl: number): Screen => screen('Service:', 'Valve test', litres(deliveredMl));

export const updatingScreen = (version: string): Screen => screen('Updating firmware', version, 'Please wait');
