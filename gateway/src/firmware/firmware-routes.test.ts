import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandResult, DispenserCommand, decodeMessage, dispenserTopic } from '@tusafishe/protocol';
import { nextMessage, startTestGateway, TestDispenser, type TestGateway } from '../../test/fixtures.js';
import { createTechnician } from '../ui-api/technician-accounts.js';
import { technicianApi } from '../ui-api/technician-api.js';
import { startFirmwareUpdates } from './firmware-updates.js';
import { MAX_IMAGE_BYTES } from './firmware-routes.js';

const USERNAME = 'baraka';
const PASSWORD = 'update-the-taps-7';
const IMAGE = Buffer.from('tusafishe firmware 0.2.0 '.repeat(400));
const SHA = createHash('sha256').update(IMAGE).digest('hex');

describe('firmware API', () => {
  let gateway: TestGateway;
  let app: FastifyInstance;
  let cookie: string;

  const upload = (
    body: Buffer,
    url = '/api/firmware?version=tusafishe-fw/0.2.0',
    headers: Record<string, string> = { cookie },
  ) =>
    app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/octet-stream', ...headers },
      payload: body,
    });
  const startOta = (dispenserId: string, version = 'tusafishe-fw/0.2.0') =>
    app.inject({
      method: 'POST',
      url: `/api/dispensers/${dispenserId}/ota`,
      headers: { cookie, 'content-type': 'application/json', host: '192.168.4.1:8080' },
      payload: { version },
    });
  const storedFiles = () => readdirSync(join(gateway.dataDir, 'firmware'));

  beforeAll(async () => {
    gateway = await startTestGateway({
      setup: async (core) => {
        await createTechnician(core.store.db, USERNAME, PASSWORD);
        await core.http.register(technicianApi, { gateway: core, firmware: startFirmwareUpdates(core) });
      },
    });
    app = gateway.http;
    const signIn = await app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { 'content-type': 'application/json' },
      payload: { username: USERNAME, password: PASSWORD },
    });
    const session = signIn.cookies.find((c) => c.name === 'tusafishe_session')!;
    cookie = `${session.name}=${session.value}`;
  });
  afterAll(() => gateway?.close());

  it('refuses uploads that are not signed in, have no version, are too big or are not raw bytes, storing nothing', async () => {
    expect((await upload(IMAGE, undefined, {})).statusCode).toBe(401);
    const noVersion = await upload(IMAGE, '/api/firmware');
    expect(noVersion.statusCode).toBe(400);
    expect(noVersion.json()).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('version') });
    expect((await upload(IMAGE, '/api/firmware?version=has%20space')).statusCode).toBe(400);
    expect((await upload(Buffer.alloc(MAX_IMAGE_BYTES + 1))).statusCode).toBe(413);
    expect((await upload(Buffer.alloc(0))).json()).toMatchObject({ code: 'INVALID_FIRMWARE' });
    const asJson = await app.inject({
      method: 'POST',
      url: '/api/firmware?version=x',
      headers: { cookie, 'content-type': 'application/json' },
      payload: {},
    });
    expect(asJson.statusCode).toBe(415);
    expect(storedFiles()).toEqual([]);
    const list = await app.inject({ method: 'GET', url: '/api/firmware', headers: { cookie } });
    expect(list.json()).toEqual({ images: [] });
  });

  it('stores an image by its SHA-256, lists it and serves it read-only at /firmware/<sha256>.bin', async () => {
    const stored = await upload(IMAGE);
    expect(stored.statusCode).toBe(200);
    expect(stored.json()).toMatchObject({ version: 'tusafishe-fw/0.2.0', sha256: SHA, size: IMAGE.byteLength });
    expect((await upload(IMAGE)).statusCode).toBe(200);
    expect((await upload(Buffer.from('other bytes'))).json()).toMatchObject({ code: 'FIRMWARE_CONFLICT' });
    expect(storedFiles()).toEqual([SHA]);
    const list = await app.inject({ method: 'GET', url: '/api/firmware', headers: { cookie } });
    expect(list.json().images).toHaveLength(1);

    const served = await app.inject({ method: 'GET', url: `/firmware/${SHA}.bin` });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('application/octet-stream');
    expect(served.rawPayload.equals(IMAGE)).toBe(true);
    expect((await app.inject({ method: 'GET', url: `/firmware/${'0'.repeat(64)}.bin` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/firmware/../gateway.db' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/firmware/${SHA}.bin` })).statusCode).toBe(404);
    expect(existsSync(join(gateway.dataDir, 'firmware', SHA))).toBe(true);
  });

  it('sends the ota command with a URL on the gateway address, then follows the rollout to confirmed', async () => {
    const d2 = await TestDispenser.connect(gateway, 'D2');
    try {
      const online = gateway.store.dispensers.get('D2')?.online;
      if (!online)
        d2.client.publish(
          dispenserTopic('D2', 'status'),
          JSON.stringify({ online: true, firmware: 'tusafishe-fw/0.1.0' }),
          { qos: 1, retain: true },
        );
      await expect.poll(() => gateway.store.dispensers.get('D2')?.online).toBe(true);
      expect((await startOta('D2', 'tusafishe-fw/9.9.9')).json()).toMatchObject({ code: 'UNKNOWN_FIRMWARE' });
      await d2.client.subscribeAsync(dispenserTopic('D2', 'command'), { qos: 1 });
      const command = nextMessage(d2.client, dispenserTopic('D2', 'command'), (payload) => {
        const decoded = decodeMessage(DispenserCommand, payload.toString());
        return decoded.ok && decoded.value.type === 'ota' ? decoded.value : undefined;
      });
      const started = await startOta('D2');
      expect(started.json()).toMatchObject({
        rollout: { dispenser_id: 'D2', version: 'tusafishe-fw/0.2.0', state: 'pending' },
      });
      expect(await command).toMatchObject({
        url: `http://192.168.4.1:8080/firmware/${SHA}.bin`,
        sha256: SHA,
        size: IMAGE.byteLength,
      });
      const { command_id } = await command;

      const rollout = async () =>
        (await app.inject({ method: 'GET', url: '/api/dispensers/D2/ota', headers: { cookie } })).json().rollout;
      const result: CommandResult = { command_id, ok: true, message: 'installed tusafishe-fw/0.2.0' };
      d2.client.publish(dispenserTopic('D2', 'command/result'), JSON.stringify(result), { qos: 1 });
      await expect.poll(async () => (await rollout()).state).toBe('installed');
      d2.client.publish(
        dispenserTopic('D2', 'status'),
        JSON.stringify({ online: true, firmware: 'tusafishe-fw/0.2.0' }),
        { qos: 1, retain: true },
      );
      await expect.poll(async () => (await rollout()).state).toBe('confirmed');
      expect((await startOta('D2')).json()).toMatchObject({ code: 'FIRMWARE_CURRENT' });
      const audit = gateway.store.db
        .prepare("SELECT action FROM technician_audit WHERE action LIKE 'firmware%' ORDER BY occurred_at")
        .pluck()
        .all();
      expect(audit).toEqual(['firmware_upload', 'firmware_update']);
    } finally {
      await d2.close();
    }
  });

  it('refuses an update while the dispenser is dispensing, or offline', async () => {
    const d3 = await TestDispenser.connect(gateway, 'D3');
    try {
      d3.client.publish(dispenserTopic('D3', 'status'), JSON.stringify({ online: true }), { qos: 1, retain: true });
      await expect.poll(() => gateway.store.dispensers.get('D3')?.online).toBe(true);
      const approval = await d3.authorise(d3.request('+254700000104', 1000));
      expect(approval.approved).toBe(true);
      const busy = await startOta('D3');
      expect(busy.statusCode).toBe(409);
      expect(busy.json()).toMatchObject({ code: 'DISPENSER_BUSY', message: expect.stringContaining('dispensing') });
    } finally {
      await d3.close();
    }
    expect((await startOta('D6')).json()).toMatchObject({ code: 'DISPENSER_OFFLINE' });
  });
});
