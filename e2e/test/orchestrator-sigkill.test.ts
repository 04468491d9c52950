/**
 * `npm start`'s orchestrator SIGKILLed (or killed by the OOM killer): it cannot stop its parts,
 * so each part notices its parent is gone (scripts/exit-with-parent.ts) and stops by itself,
 * leaving nothing on the demo's ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { DEMO_PORTS_FREE, descendants, stillRunning } from './processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dataDir: string | undefined;
let orchestrator: ChildProcess | undefined;
let left: number[] = [];

afterAll(async () => {
  // Never leave a part behind on a failure: the next test run needs its ports.
  if (orchestrator && orchestrator.exitCode === null && orchestrator.signalCode === null) {
    const exited = once(orchestrator, 'exit');
    orchestrator.kill('SIGTERM');
    await exited;
  }
  for (const pid of stillRunning(left)) process.kill(pid, 'SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('stops the cloud, the gateway and what they run when the orchestrator is SIGKILLed', {
  timeout: 480_000,
}, async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tusafishe-sigkill-'));
  // The orchestrator itself, as `npm start` execs it, on OS-chosen ports.
  const kiosk = spawn(process.execPath, ['--import', 'tsx', 'scripts/start-kiosk.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      ...DEMO_PORTS_FREE,
      GATEWAY_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  orchestrator = kiosk;
  const exited = once(kiosk, 'exit');
  // Generous: on a loaded 2-core machine tsx and the two parts' imports take minutes.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the kiosk did not start within 360 s')), 360_000);
    kiosk.once('exit', (code) => reject(new Error(`the orchestrator exited with ${code}`)));
    createInterface({ input: kiosk.stdout! }).on('line', (line) => {
      if (!line.includes('is running')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  left = descendants(kiosk.pid!);
  // The cloud and the gateway (and what they run: esbuild, the simulators' socat).
  expect(left.length).toBeGreaterThanOrEqual(2);

  kiosk.kill('SIGKILL');
  await exited;
  await expect.poll(() => stillRunning(left), { timeout: 90_000, interval: 250 }).toEqual([]);
});
