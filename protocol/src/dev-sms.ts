import { createWriteStream } from 'node:fs';
import * as z from 'zod';

/**
 * The demo's phone (development only). The cloud's development SMS adapter and the gateway's
 * simulated modem each write every message they "send" as one JSON line `{"phone","message"}`
 * on the descriptor named by DEV_SMS_FD, a pipe to `npm start`, which prints it with
 * `formatDevSms`. Never through a log: a message may carry a PIN-reset code or a keypad token.
 */
export const DevSms = z.object({ phone: z.string(), message: z.string() });
export type DevSms = z.infer<typeof DevSms>;

/** Writes each message as a line on `fd`. A reader that went away is ignored: the demo's phone only shows copies. */
export function devSmsWriter(fd: number): (sms: DevSms) => void {
  const out = createWriteStream('', { fd });
  out.on('error', () => undefined);
  return ({ phone, message }) => void out.write(`${JSON.stringify({ phone, message })}\n`);
}

/**
 * One line a writer wrote, as the phone would show it, on one terminal line (line breaks as
 * ` / `): `SMS to +256772000001: …`, or `SMS to … (sent by the kiosk modem): …` with a
 * `sender`. Undefined for a line that is not a message.
 */
export function formatDevSms(line: string, sender?: string): string | undefined {
  let sms: DevSms;
  try {
    sms = DevSms.parse(JSON.parse(line));
  } catch {
    return undefined;
  }
  return `SMS to ${sms.phone}${sender ? ` (sent by ${sender})` : ''}: ${sms.message.replace(/\s*\n\s*/g, ' / ')}`;
}
