import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kioskExtensions } from '@tusafishe/gateway';
import { demoPassword, startTestGateway, type TestGateway } from '@tusafishe/gateway/testing';
import { startSimulatedDispenser, type SimulatedDispenser } from '../src/host/index.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TECHNICIAN = { username: 'tls-technician', password: 'tls-technician-pw' };

/** A GET or POST over HTTPS that trusts only `ca`. */
function https(
  url: string,
  ca: Buffer,
  body?: unknown,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca,
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A kiosk certificate from `npm run provision -- kiosk certificate`, a gateway serving with it, dispensers over TLS. */
describe('TLS on the kiosk networks', () => {
  let dir: string;
  let gateway: TestGateway;
  let ca: Buffer;
  let dispenser: SimulatedDispenser | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiosk-tls-'));
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'provisioning/src/cli.ts', 'kiosk', 'certificate', 'K1'].concat([
        '--host',
        'localhost,127.0.0.1',
        '--ca-dir',
        join(dir, 'fleet-ca'),
        '--out-dir',
        join(dir, 'tls'),
      ]),
      { cwd: REPO_ROOT },
    );
    ca = await readFile(join(dir, 'tls', 'ca.crt'));
    const [cert, key] = await Promise.all([
      readFile(join(dir, 'tls', 'kiosk.crt')),
      readFile(join(dir, 'tls', 'kiosk.key')),
    ]);
    gateway = await startTestGateway({
      tls: { cert, key, mqttsPort: 0 },
      extensions: (core) =>
        kioskExtensions(core, {
          HW_MODE: 'off',
          TECHNICIAN_USERNAME: TECHNICIAN.username,
          TECHNICIAN_PASSWORD: TECHNICIAN.password,
        }),
    });
  }, 60_000);
  afterAll(async () => {
    await dispenser?.stop();
    await gateway?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the technicians over HTTPS with the kiosk certificate, cookies Secure', async () => {
    const base = `https://localhost:${gateway.httpPort}`;
    expect((await https(`${base}/health`, ca)).status).toBe(200);
    const signIn = await https(`${base}/api/session`, ca, TECHNICIAN);
    expect(signIn.status).toBe(200);
    expect(String(signIn.headers['set-cookie'])).toMatch(/; Secure/);
    // Nothing in plain text, and a client that does not trust the fleet CA is refused.
    await expect(fetch(`http://127.0.0.1:${gateway.httpPort}/health`)).rejects.toThrow();
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });

  it('takes a simulated dispenser over MQTT/TLS (8883) and refuses a client that does not trust the fleet CA', async () => {
    expect(gateway.mqttsPort).toEqual(expect.any(Number));
    dispenser = await startSimulatedDispenser({
      id: 'D1',
      password: demoPassword(gateway, 'D1'),
      mqttUrl: `mqtts://localhost:${gateway.mqttsPort}`,
      mqttCa: ca,
      dataDir: join(dir, 'D1'),
    });
    await dispenser.waitFor((d) => d.connected, 'D1 connected over TLS', 15_000);
    await expect(
      mqtt.connectAsync(`mqtts://localhost:${gateway.mqttsPort}`, {
        clientId: 'D2',
        username: 'D2',
        password: demoPassword(gateway, 'D2'),
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
    ).rejects.toThrow(/certificate/);
  });
});
