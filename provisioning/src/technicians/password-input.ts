import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import type { CommandIo } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';

/** The first line of stdin (`printf '%s\n' "$PASSWORD" | … --password-stdin`), without its line ending. */
export async function readPasswordFromStdin(io: CommandIo): Promise<string> {
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of lines) return line;
  } finally {
    lines.close();
  }
  throw new ProvisioningError('USAGE', '--password-stdin: stdin was empty');
}

/** Asks on the terminal without echo, twice, so a typo does not lock the technician out. */
export async function promptPassword(io: CommandIo): Promise<string> {
  if (!io.stdin.isTTY)
    throw new ProvisioningError('USAGE', 'no terminal to ask for the password on: pipe it in with --password-stdin');
  const first = await askHidden(io, 'password: ');
  const second = await askHidden(io, 'repeat password: ');
  if (first !== second) throw new ProvisioningError('USAGE', 'the passwords differ: nothing changed');
  return first;
}

async function askHidden(io: CommandIo, prompt: string): Promise<string> {
  io.err(prompt);
  // readline echoes what is typed to its output: a sink that drops it keeps the password off the screen.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: io.stdin, output: silent, terminal: true });
  try {
    return await rl.question('');
  } finally {
    rl.close();
    io.err('\n');
  }
}
