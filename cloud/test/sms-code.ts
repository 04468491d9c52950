import { readOutbox } from '../src/sms/sender.js';
import type { Queryable } from '../src/store/db.js';

/** The six digits of the last SMS the cloud sent to `phone` (a PIN reset or phone change code). */
export async function lastSmsCode(cloud: { db: Queryable }, phone: string): Promise<string> {
  const [message] = await readOutbox(cloud.db, phone, 1);
  const code = /\b(\d{6})\b/.exec(message?.message ?? '')?.[1];
  if (!code) throw new Error(`no code sent to ${phone}: ${message?.message}`);
  return code;
}
