/**
 * Provisioning command: adds a technician account to a gateway's database.
 *   DATA_DIR=./data npx tsx gateway/src/ui-api/provision-technician.ts <username>
 * The password is read from TECHNICIAN_PASSWORD or, when unset, from the first line of stdin,
 * so it never appears in the process list or shell history.
 */
import { createInterface } from 'node:readline/promises';
import * as z from 'zod';
import { en } from 'zod/locales';
import { TusafisheError } from '@tusafishe/protocol';
import { Store } from '../store/store.js';
import { createTechnician } from './technician-accounts.js';

z.config(en());

async function readPassword(): Promise<string> {
  if (process.env.TECHNICIAN_PASSWORD) return process.env.TECHNICIAN_PASSWORD;
  const lines = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  if (process.stdin.isTTY) process.stderr.write('password: ');
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}

async function main(): Promise<void> {
  const username = z.string().trim().min(1).max(64).safeParse(process.argv[2]);
  if (!username.success) {
    process.stderr.write(
      'usage: DATA_DIR=<gateway data dir> provision-technician.ts <username>  (password on stdin or TECHNICIAN_PASSWORD)\n',
    );
    process.exit(2);
  }
  const store = Store.open(process.env.DATA_DIR ?? './data');
  try {
    await createTechnician(store.db, username.data, await readPassword());
    process.stdout.write(`technician ${username.data} created\n`);
  } catch (error) {
    if (!(error instanceof TusafisheError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  } finally {
    store.close();
  }
}

await main();
