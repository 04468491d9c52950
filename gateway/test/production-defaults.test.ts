import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS_FILE } from '../src/seed/demo-data.js';
import { Store } from '../src/store/store.js';
import { spawnGateway, type GatewayProcess } from './fixtures.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const running: GatewayProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-prod-'));
  dirs.push(dir);
  return dir;
}

describe('a production gateway', () => {
  it('starts with no demo data, no demo dispensers and no password printed', { timeout: 60_000 }, async () => {
    const dataDir = await tempDir();
    const gateway = await spawnGateway(dataDir, { NODE_ENV: 'production', SEED_DEMO: undefined });
    running.push(gateway);
    expect(gateway.demo).toBeNull();
    await gateway.stop('SIGTERM');
    expect(gateway.output.join('\n')).not.toMatch(/password/i);
    expect(existsSync(join(dataDir, DEMO_CREDENTIALS_FILE))).toBe(false);
    const store = Store.open(dataDir);
    expect(store.customers.count()).toBe(0);
    expect(store.dispensers.list()).toEqual([]);
    store.close();
  });

  it('refuses to seed demo data even when asked, with a clear error and nothing created', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await tempDir();
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'production', SEED_DEMO: 'true', DATA_DIR: dataDir, HW_MODE: 'off' },
    });
    const failure = await run.then(
      () => null,
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect(failure?.stderr).toMatch(/SEED_DEMO/);
    expect(failure?.stderr).toMatch(/demo data cannot be seeded in production/);
    expect(failure?.stdout).not.toMatch(/password/i);
    expect(existsSync(join(dataDir, DEMO_CREDENTIALS_FILE))).toBe(false);
  });
});

describe('a gateway started without SEED_DEMO outside production', () => {
  it('does not seed the demo either (opt-in)', { timeout: 60_000 }, async () => {
    const dataDir = await tempDir();
    const gateway = await spawnGateway(dataDir, { SEED_DEMO: undefined });
    running.push(gateway);
    expect(gateway.demo).toBeNull();
    await gateway.stop('SIGTERM');
    const store = Store.open(dataDir);
    expect(store.customers.count()).toBe(0);
    store.close();
  });
});
