import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { socatAvailable } from '../src/hardware/serial/pty-pair.js';

const PTY_PAIR = fileURLToPath(new URL('../src/hardware/serial/pty-pair.ts', import.meta.url));

/** Running: neither gone nor a zombie waiting for whoever adopted it to reap it. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe.skipIf(!socatAvailable())('a simulated serial cable', () => {
  it('goes with the process that opened it when that process is killed outright', async () => {
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(PTY_PAIR)}).then((m) => m.openPtyPair()).then(() => console.log('open'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
    expect(line.toString()).toContain('open');
    const pid = holder.pid!;
    // Its children: socat, and whatever else the loader started (esbuild's service).
    const socat = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
      .find((child) => readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'socat');
    expect(socat).toBeDefined();

    const exited = once(holder, 'exit');
    holder.kill('SIGKILL');
    await exited;
    await expect.poll(() => running(socat!)).toBe(false);
  });
});
