import type { SimulatedDispenser } from '@tusafishe/dispenser-firmware/host';

export type PurchaseOutcome =
  | { kind: 'dispensed'; lcd: string }
  | { kind: 'denied'; reason: string }
  | { kind: 'no-answer' };

const screenText = (dispenser: SimulatedDispenser): string => dispenser.lcd().join('\n');
const DONE = /Thank you!|Stopped|Power was lost/;

/**
 * A customer at the keypad: phone, PIN, litres, as a person would type them. Waits for
 * the dispenser to be idle first and for the result screen after, so what the dispenser
 * did is known (the water itself is counted by the dispenser's own flash counters).
 */
export async function buyWater(
  dispenser: SimulatedDispenser,
  customer: { keypadPhone: string; pin: string },
  litres: number,
  timeoutMs = 20_000,
): Promise<PurchaseOutcome> {
  await dispenser.waitForLcd('Enter phone number', timeoutMs);
  dispenser.press(`${customer.keypadPhone}#${customer.pin}#${litres}#`);
  await dispenser.waitFor(
    (d) => DONE.test(screenText(d)) || screenText(d).startsWith('Sorry:'),
    'purchase result',
    timeoutMs,
  );
  const lcd = dispenser.lcd();
  if (lcd[0]?.startsWith('Sorry:')) {
    const reason = lcd.slice(1, 3).join(' ').replace(/\s+/g, ' ').trim();
    dispenser.press('#');
    return /not responding|Gateway not/.test(reason) ? { kind: 'no-answer' } : { kind: 'denied', reason };
  }
  // The result screen clears by itself; the next purchase waits for the idle screen.
  return { kind: 'dispensed', lcd: lcd.join('|') };
}

/**
 * A customer typing a keypad token from the SMS: A on the idle screen, phone #, the 15 digits #.
 * Resolves with the gateway's answer as the LCD shows it (rows joined by `|`), then clears it.
 */
export async function redeemToken(
  dispenser: SimulatedDispenser,
  keypadPhone: string,
  token: string,
  timeoutMs = 20_000,
): Promise<string> {
  await dispenser.waitForLcd('Enter phone number', timeoutMs);
  dispenser.press(`A${keypadPhone}#${token}#`);
  await dispenser.waitFor((d) => d.lcd()[3]?.startsWith('Press any key') ?? false, 'token answer', timeoutMs);
  const answer = dispenser.lcd().join('|');
  dispenser.press('#');
  return answer;
}
