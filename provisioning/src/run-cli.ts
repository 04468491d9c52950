import * as z from 'zod';
import { en } from 'zod/locales';
import type { Command } from './command-line.js';
import { runCommand } from './run-command.js';

/** Runs the command the process arguments name among `commands`, on stdio; sets the exit code. */
export function runCli(commands: readonly Command[], usage: string): void {
  z.config(en());
  const io = {
    out: (text: string) => void process.stdout.write(text),
    err: (text: string) => void process.stderr.write(text),
    stdin: process.stdin,
    env: process.env,
  };
  runCommand(process.argv.slice(2), io, commands, usage).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // Unexpected failures (database down, bug): the message, not a stack with arguments in it.
      process.stderr.write(`provisioning failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
