import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandResult, DispenserCommand, decodeMessage, dispenserTopic } from '@tusafishe/protocol';
import { generateReleaseKey, signFirmware } from '@tusafishe/protocol/signed-firmware';
import { nextMessage, startTestGateway, TestDispenser, type TestGateway } from '../../test/fixtures.js';
import { createTechnician } from '../ui-api/technician-accounts.js';
import { technicianApi } from '../ui-api/technician-api.js';
import { firmwareExtension } from './firmware-extension.js';
import { MAX_IMAGE_BYTES } from './firmware-routes.js';

const USERNAME = 'baraka';
const PASSWORD = 'update-the-taps-7';
const IMAGE = Buffer.from('tusafishe firmware 0.2.0 '.repeat(400));
const SHA = createHash('sha256').update(IMAGE).digest('hex');
const RELEASE = generateReleaseKey();
const SIGNED = signFirmware(IMAGE, { version: 'tusafishe-fw/0.2.0', counter: 2 }, RELEASE.privateKeyPem);

describe('firmware API', () => {
  let gateway: TestGateway;
  let app: FastifyInstance;
  let cookie: string;

  const upload = (body: Buffer, url = '/api/firmware', headers: Record<string, string> = { cookie }) =>
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
  const listed = async () => (await app.inject({ method: 'GET', url: '/api/firmware', headers: { cookie } })).json();
  /** The release for the update tests: each uploads it (again: idempotent), so they pass in any order. */
  const uploadRelease = async () => expect((await upload(SIGNED.file)).statusCode).toBe(200);

  beforeAll(async () => {
    gateway = await startTestGateway({
      extensions: async (core) => {
        await createTechnician(core.store.db, USERNAME, PASSWORD);
        const firmware = firmwareExtension(core, { FIRMWARE_PUBLIC_KEY: RELEASE.publicKey });
        await core.http.register(technicianApi, { gateway: core, firmware });
        return [firmware];
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

  it('refuses uploads that are not signed in, not release-signed, too big or not raw bytes, storing nothing', async () => {
    const [filesBefore, listBefore] = [storedFiles(), await listed()];
    expect((await upload(SIGNED.file, undefined, {})).statusCode).toBe(401);
    const unsigned = await upload(IMAGE);
    expect(unsigned.statusCode).toBe(400);
    expect(unsigned.json()).toMatchObject({
      code: 'INVALID_FIRMWARE',
      message: expect.stringContaining('firmware sign'),
    });
    const otherKey = signFirmware(
      IMAGE,
      { version: 'tusafishe-fw/0.2.0', counter: 2 },
      generateReleaseKey().privateKeyPem,
    );
    expect((await upload(otherKey.file)).json()).toMatchObject({
      code: 'INVALID_FIRMWARE',
      message: expect.stringContaining('release key'),
    });
    const tampered = Buffer.from(SIGNED.file);
    tampered.writeUInt8(tampered.at(-1)! ^ 1, tampered.length - 1);
    expect((await upload(tampered)).json()).toMatchObject({ code: 'INVALID_FIRMWARE' });
    expect((await upload(Buffer.alloc(MAX_IMAGE_BYTES + 1))).statusCode).toBe(413);
    expect((await upload(Buffer.alloc(0))).json()).toMatchObject({ code: 'INVALID_FIRMWARE' });
    const asJson = await app.inject({
      method: 'POST',
      url: '/api/firmware',
      headers: { cookie, 'content-type': 'application/json' },
      payload: {},
    });
    expect(asJson.statusCode).toBe(415);
    expect(storedFiles()).toEqual(filesBefore);
    expect(await listed()).toEqual(listBefore);
  });

  it('stores an image by its SHA-256, lists it and serves it read-only at /firmware/<sha256>.bin', async () => {
    const stored = await upload(SIGNED.file);
    expect(stored.statusCode).toBe(200);
    expect(stored.json()).toMatchObject({
      version: 'tusafishe-fw/0.2.0',
      sha256: SHA,
      size: IMAGE.byteLength,
      counter: 2,
    });
    expect((await upload(SIGNED.file)).statusCode).toBe(200);
    const sameVersion = signFirmware(
      Buffer.from('other bytes'),
      { version: 'tusafishe-fw/0.2.0', counter: 2 },
      RELEASE.privateKeyPem,
    );
    expect((await upload(sameVersion.file)).json()).toMatchObject({ code: 'FIRMWARE_CONFLICT' });
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
    await uploadRelease();
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
        counter: 2,
        signature: SIGNED.manifest.signature,
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
        .prepare("SELECT action FROM technician_audit WHERE action LIKE 'firmware%' ORDER BY occurred_at, rowid")
        .pluck()
        .all();
      expect(audit).toEqual(['firmware_upload', 'firmware_update']);
    } finally {
      await d2.close();
    }
  });

  it('refuses an update while the dispenser is dispensing, or offline', async () => {
    await uploadRelease();
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
