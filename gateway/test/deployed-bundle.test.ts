import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthApproved } from '@tusafishe/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGateway, GATEWAY_DIST } from '../../scripts/gateway-bundle.js';
import { spawnGateway, TestDispenser, type GatewayProcess } from './fixtures.js';

// The Pi runs the esbuild bundle with plain node, never TypeScript: prove that artifact works.
const outDir = join(GATEWAY_DIST, `test-${randomBytes(4).toString('hex')}`);
let dataDir: string | undefined;
let gateway: GatewayProcess | undefined;

afterAll(async () => {
  await gateway?.stop();
  await rm(outDir, { recursive: true, force: true });
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the deployed gateway bundle', () => {
  it('runs as plain JavaScript: migrates, serves a dispense over MQTT, and its HTTP APIs', {
    timeout: 90_000,
  }, async () => {
    const bundle = await buildGateway(outDir);
    dataDir = await mkdtemp(join(tmpdir(), 'tusafishe-bundle-'));
    gateway = await spawnGateway(dataDir, {}, undefined, ['--enable-source-maps', bundle]);

    const health = await fetch(`http://127.0.0.1:${gateway.httpPort}/health`);
    expect(health.status).toBe(200);
    const openapi = await fetch(`http://127.0.0.1:${gateway.httpPort}/api/openapi.json`);
    expect(openapi.status).toBe(200);
    // The sync state names the cloud: technicians only.
    expect((await fetch(`http://127.0.0.1:${gateway.httpPort}/api/sync`)).status).toBe(401);

    const dispenser = await TestDispenser.connect(gateway, 'D1');
    const approval = (await dispenser.authorise(dispenser.request('0700000103', 2000))) as AuthApproved;
    expect(approval).toMatchObject({ approved: true, approved_ml: 2000 });
    const ack = await dispenser.complete(dispenser.completion(approval, 2000));
    expect(ack).toMatchObject({ recorded_ml: 2000, balance_ml: 18_000 });
    await dispenser.close();
  });

  it("has the image's `provision` command beside it: a technician added on the device signs in at once", async () => {
    if (!gateway || !dataDir) throw new Error('the gateway bundle did not start');
    const provision = (args: string[], stdin = '') =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [join(outDir, 'provision.js'), ...args],
          { env: { ...process.env, DATA_DIR: dataDir } },
          (error, out) => resolve({ code: error ? (error.code as number) : 0, out }),
        );
        child.stdin?.end(stdin);
      });
    const help = await provision(['--help']);
    expect(help.out).toContain('technician password');
    // Only what works on the gateway's own database: the cloud's packages are not in the image.
    expect(help.out).not.toContain('kiosk create');

    const added = await provision(['technician', 'add', 'amina', '--password-stdin'], 'on-site-password\n');
    expect(added).toMatchObject({ code: 0, out: expect.stringContaining('Technician amina can now sign in') });
    const signIn = await fetch(`http://127.0.0.1:${gateway.httpPort}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'amina', password: 'on-site-password' }),
    });
    expect(signIn.status).toBe(200);
  });
});
