import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretToken } from '@tusafishe/protocol/testing';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { freshPglite } from './backends.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let cloud: RunningCloud;

beforeAll(async () => {
  cloud = await startCloud({ ...freshPglite(), port: 0, logger: false });
});
afterAll(async () => {
  await cloud?.close();
});

/** Runs `npm run ussd` as a developer would, with the replies piped in. */
function dial(phone: string, replies: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'cloud/src/ussd/terminal-phone.ts', phone, '--url', cloud.url],
      // Generous: tsx and the cloud's imports take many seconds on a loaded machine.
      { cwd: ROOT, timeout: 90_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
    child.stdin!.end(replies.map((reply) => `${reply}\n`).join(''));
  });
}

describe('the terminal phone (npm run ussd)', () => {
  it('registers through the real USSD endpoint, then shows the balance, never echoing the PIN', async () => {
    const registration = await dial('0772555001', ['1', 'Grace Nakato', '5937', '5937']);
    expect(registration).toMatch(/Welcome Grace Nakato! Your account is TS/);
    expect(registration).not.toMatch(secretToken('5937'));
    expect(await dial('+256772555001', ['1'])).toMatch(/Balance: 0 L/);
  });
});
