import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HardwareError } from '../hardware-error.js';

/** Two connected pseudo-terminals: what one end writes the other reads, like a null-modem cable. */
export interface PtyPair {
  /** Paths (symlinks to /dev/pts/N) of the two ends. */
  readonly a: string;
  readonly b: string;
  close(): Promise<void>;
}

export function socatAvailable(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

let parentDeathPrefix: string[] | undefined;

/**
 * util-linux's `setpriv --pdeathsig KILL`, where it exists: socat is killed with the process that
 * started it. A gateway killed outright (a power cut in the fault tests, a bench's SIGKILL) would
 * otherwise leave its simulated cables running.
 */
function dieWithParent(): string[] {
  parentDeathPrefix ??=
    spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true'], { stdio: 'ignore' }).status === 0
      ? ['setpriv', '--pdeathsig', 'KILL']
      : [];
  return parentDeathPrefix;
}

/**
 * Starts `socat pty,raw,echo=0 pty,raw,echo=0`; resolves once both ends exist.
 * Simulators sit on one end, the real driver opens the other, so the driver
 * speaks its protocol over a real serial device.
 */
export async function openPtyPair(timeoutMs = 5000): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const [command, ...args] = [
    ...dieWithParent(),
    'socat',
    '-d',
    '-d',
    `pty,raw,echo=0,link=${a}`,
    `pty,raw,echo=0,link=${b}`,
  ];
  const socat = spawn(command!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (socat.exitCode === null && socat.signalCode === null) socat.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(
        () => reject(new Error(`socat gave no ptys within ${timeoutMs} ms: ${stderr}`)),
        timeoutMs,
      );
      socat.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socat.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`socat exited (${code}): ${stderr}`));
      });
      socat.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if ((stderr.match(/PTY is /g) ?? []).length >= 2 && stderr.includes('starting data transfer loop')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (error) {
    await close();
    throw new HardwareError('PTY_UNAVAILABLE', `cannot open a pseudo-terminal pair: ${(error as Error).message}`);
  }
  socat.stderr.removeAllListeners('data');
  socat.stderr.resume();
  return { a, b, close };
}
