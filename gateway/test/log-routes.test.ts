import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt, spawnGateway, TEST_TIMEOUT_MS, type GatewayProcess } from './fixtures.js';

const TECHNICIAN = { username: 'achieng', password: 'logs-at-the-kiosk-7' };

/** The field gateway process (main.ts) keeps its own log lines for the Logs page, the same lines stdout gets. */
describe('gateway process log for technicians', () => {
  let dir: string;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tusafishe-logs-'));
    gateway = await spawnGateway(dir, {
      TECHNICIAN_USERNAME: TECHNICIAN.username,
      TECHNICIAN_PASSWORD: TECHNICIAN.password,
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a refused dispenser login to a signed-in technician exactly as stdout logged it', async () => {
    const base = `http://127.0.0.1:${gateway.httpPort}`;
    expect((await fetch(`${base}/api/logs`)).status).toBe(401);
    const signIn = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(TECHNICIAN),
    });
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;

    await expect(connectMqtt(gateway.mqttPort, 'D2', 'guessed-password')).rejects.toThrow();
    await expect
      .poll(() => gateway.output.find((line) => line.includes('broker login refused')), { timeout: TEST_TIMEOUT_MS })
      .toBeDefined();
    const logged = JSON.parse(gateway.output.find((line) => line.includes('broker login refused'))!) as Record<
      string,
      unknown
    >;

    const answer = (await (await fetch(`${base}/api/logs?level=warn&module=core`, { headers: { cookie } })).json()) as {
      entries: { time: number; level: string; msg: string; fields: Record<string, unknown> }[];
    };
    // Found by its message: a loaded machine may log another warning after it.
    expect(answer.entries.find((entry) => entry.msg === 'broker login refused')).toEqual({
      seq: expect.any(Number),
      time: logged.time,
      level: 'warn',
      module: 'core',
      msg: 'broker login refused',
      fields: { client_id: logged.client_id, username: 'D2', remote: logged.remote, reason: logged.reason },
    });
    expect(JSON.stringify(answer)).not.toContain('guessed-password');
  });
});
