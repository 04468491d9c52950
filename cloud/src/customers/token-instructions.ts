import { groupTokenDigits } from '@tusafishe/protocol';
import type { Language } from './customers.js';

/** The one line that goes with a keypad token, in the credit SMS and on the USSD balance screen. */
export function tokenInstructions(token: string, language: Language): string {
  const digits = groupTokenDigits(token);
  return language === 'sw'
    ? `Kioski kikiwa nje ya mtandao, bonyeza A, namba yako, # kisha ${digits} # kwenye mashine.`
    : `If the kiosk is offline, type A, your number, # then ${digits} # at the dispenser.`;
}
