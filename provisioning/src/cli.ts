/** `npm run provision -- <command> …`: brings kiosks, dispensers, technicians and the old customer base into the system. */
import * as z from 'zod';
import { en } from 'zod/locales';
import { runProvisioning } from './commands.js';

z.config(en());

const io = {
  out: (text: string) => void process.stdout.write(text),
  err: (text: string) => void process.stderr.write(text),
  stdin: process.stdin,
  env: process.env,
};

runProvisioning(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Unexpected failures (database down, bug): the message, not a stack with arguments in it.
    process.stderr.write(`provisioning failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
