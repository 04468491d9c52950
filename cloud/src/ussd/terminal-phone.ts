/**
 * `npm run ussd -- [+256771234567]`: a phone in the terminal, dialling the cloud's USSD
 * service the way Africa's Talking does — one form-encoded POST per screen, the inputs
 * so far joined by `*` — so a developer can register, check a balance or buy water
 * credit against `npm start` without a phone network.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { normalisePhone } from '@tusafishe/protocol/phone';

const Options = z.object({
  phone: z.string().transform((phone, ctx) => {
    try {
      return normalisePhone(phone, 'UG');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  url: z.url(),
  code: z.string().min(2),
  network: z.string().regex(/^\d{5,6}$/, 'a mobile network code, e.g. 64110 (MTN Uganda) or 64101 (Airtel Uganda)'),
});

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: `http://127.0.0.1:${process.env.CLOUD_PORT ?? 3000}` },
    code: { type: 'string', default: '*123#' },
    network: { type: 'string', default: '64110' },
  },
});
const parsed = Options.safeParse({ ...values, phone: positionals[0] ?? '+256771234567' });
if (!parsed.success) {
  console.error(
    `usage: npm run ussd -- [phone] [--url URL] [--code *123#] [--network 64110]\n${z.prettifyError(parsed.error)}`,
  );
  process.exit(2);
}
const { phone, url, code, network } = parsed.data;

const sessionId = randomUUID();
const inputs: string[] = [];
const terminal = createInterface({ input: process.stdin });
// An iterator buffers lines, so replies piped in ahead of their screens are not lost.
const replies = terminal[Symbol.asyncIterator]();
console.log(`${phone} dials ${code} (network ${network}); type a reply and Enter, Ctrl-D hangs up.\n`);

for (;;) {
  const body = new URLSearchParams({
    sessionId,
    serviceCode: code,
    phoneNumber: phone,
    networkCode: network,
    text: inputs.join('*'),
  });
  const response = await fetch(`${url}/ussd`, { method: 'POST', body }).catch((error: unknown) => {
    console.error(`cannot reach the cloud at ${url}: ${(error as Error).message}`);
    process.exit(1);
  });
  const screen = await response.text();
  console.log(`┌${'─'.repeat(40)}\n${screen.slice(4).replace(/^/gm, '│ ')}\n└${'─'.repeat(40)}`);
  if (!screen.startsWith('CON ')) break;
  process.stdout.write('> ');
  const reply = await replies.next();
  if (reply.done) break;
  // Piped replies are not echoed: one of them may be a PIN.
  if (!process.stdin.isTTY) console.log();
  inputs.push(reply.value.trim());
}
terminal.close();
