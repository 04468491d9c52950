import { Readable } from 'node:stream';
import type { CommandIo } from '../src/command-line.js';
import { runProvisioning } from '../src/commands.js';

export interface CommandResult {
  code: number;
  out: string;
  err: string;
}

/** Runs a provisioning command in this process, as `npm run provision -- …` would, capturing its output. */
export async function runCommand(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<CommandResult> {
  let out = '';
  let err = '';
  const io: CommandIo = {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    env: options.env ?? {},
  };
  const code = await runProvisioning(argv, io);
  return { code, out, err };
}

/** `  NAME=value` from a command's printed variables. */
export function printedValue(output: string, name: string): string {
  const match = new RegExp(`^\\s+${name}=(\\S+)$`, 'm').exec(output);
  if (!match?.[1]) throw new Error(`${name} not printed in:\n${output}`);
  return match[1];
}
