import { once } from 'node:events';
import { createConnection } from 'node:net';
import { DispenserConfig, dispenserTopic, newId, type AuthApproved } from '@tusafishe/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorisationOutcome } from '../src/events.js';
import {
  connectMqtt,
  demoPassword,
  nextMessage,
  startTestGateway,
  TestDispenser,
  TEST_TIMEOUT_MS,
  type TestGateway,
} from './fixtures.js';

let gateway: TestGateway;
let d1: TestDispenser;
let d2: TestDispenser;

beforeAll(async () => {
  gateway = await startTestGateway();
  d1 = await TestDispenser.connect(gateway, 'D1');
  d2 = await TestDispenser.connect(gateway, 'D2');
});
afterAll(async () => {
  await d1?.close();
  await d2?.close();
  await gateway?.close();
});

function approved(response: unknown): AuthApproved {
  expect(response).toMatchObject({ approved: true });
  return response as AuthApproved;
}

describe('dispense over MQTT', () => {
  it('approval → hold → completion writes one dispense event and the right balance, however often repeated', async () => {
    const request = d1.request('0700000101', 5000);
    const first = approved(await d1.authorise(request));
    expect(first).toMatchObject({ approved_ml: 5000, balance_ml: 15_000 });
    // The dispenser repeats the request until answered: same answer, one hold.
    expect(await d1.authorise(request)).toEqual(first);
    expect(gateway.store.holds.heldMlFor('TSF000101', Date.now())).toBe(5000);

    const report = d1.completion(first, 4500);
    const ack = await d1.complete(report);
    expect(ack).toMatchObject({ session_id: first.session_id, recorded_ml: 4500, balance_ml: 15_500 });
    expect(await d1.complete(report)).toEqual(ack);
    const events = gateway.store.ledger.eventsFor('TSF000101').filter((e) => e.type === 'dispense');
    expect(events).toEqual([
      expect.objectContaining({ event_id: ack.event_id, amount_ml: -4500, source_id: first.session_id }),
    ]);
    expect(gateway.store.holds.heldMlFor('TSF000101', Date.now())).toBe(0);
  });

  it('answers denials with the stable code, the LCD text and attempts left', async () => {
    expect(await d2.authorise(d2.request('0700000999', 1000))).toMatchObject({
      approved: false,
      reason: 'UNKNOWN_CUSTOMER',
      message: 'Number not found',
    });
    expect(await d2.authorise(d2.request('0700000106', 1000))).toMatchObject({
      approved: false,
      reason: 'ACCOUNT_INACTIVE',
    });
    expect(await d2.authorise(d2.request('0700000102', 1000, '1111'))).toMatchObject({
      approved: false,
      reason: 'WRONG_PIN',
      attempts_left: 4,
    });
    expect(await d2.authorise(d2.request('0700000102', 20_000))).toMatchObject({ approved: true });
  });

  it('lets a hardware interlock stop every dispense', async () => {
    const remove = gateway.interlocks.add(() => 'UV_FAULT');
    try {
      expect(await d1.authorise(d1.request('0700000103', 1000))).toMatchObject({
        approved: false,
        reason: 'UV_FAULT',
        message: 'UV fault: no water',
      });
    } finally {
      remove();
    }
  });

  it('emits the live feed without the PIN', async () => {
    const outcome = once(gateway.events, 'authorisation') as Promise<[AuthorisationOutcome]>;
    const recorded = once(gateway.events, 'dispense-recorded');
    const approval = approved(await d1.authorise(d1.request('0700000104', 1000, '1234')));
    const [feed] = await outcome;
    expect(feed).toMatchObject({
      dispenser_id: 'D1',
      account_id: 'TSF000104',
      approved: true,
      session_id: approval.session_id,
    });
    expect(JSON.stringify(feed)).not.toContain('"1234"');
    await d1.complete(d1.completion(approval, 1000));
    await recorded;
  });
});

describe('malformed and oversized payloads', () => {
  it('answers INVALID_REQUEST when a request_id can be read, drops the rest, and keeps serving', async () => {
    const requestId = newId();
    const invalid = await d1.authorise({
      requestId,
      payload: JSON.stringify({ request_id: requestId, phone: 'x', pin: '12', requested_ml: -1 }),
    });
    expect(invalid).toMatchObject({ approved: false, reason: 'INVALID_REQUEST' });

    const bigId = newId();
    const oversized = JSON.stringify({
      request_id: bigId,
      phone: '0700000105',
      pin: '1234',
      requested_ml: 1000,
      pad: 'x'.repeat(5000),
    });
    expect(await d1.authorise({ requestId: bigId, payload: oversized })).toMatchObject({
      approved: false,
      reason: 'INVALID_REQUEST',
    });

    const topic = dispenserTopic('D1', 'auth/request');
    await d1.client.publishAsync(topic, '{not json', { qos: 1 });
    await d1.client.publishAsync(dispenserTopic('D1', 'session/complete'), '{"session_id":1}', { qos: 1 });
    await d1.client.publishAsync(dispenserTopic('D1', 'heartbeat'), 'null', { qos: 1 });
    expect(await d1.authorise(d1.request('0700000105', 1000))).toMatchObject({ approved: true });
  });
});

describe('oversized MQTT packets', () => {
  it('cuts a connection announcing a packet over the cap before buffering it, even before login, and keeps serving', async () => {
    const raw = createConnection(gateway.mqttPort, '127.0.0.1');
    await once(raw, 'connect');
    // A CONNECT fixed header announcing 10 MB (remaining length 0x80 0xAD 0xE2 0x04), then a trickle of bytes.
    raw.write(Buffer.from([0x10, 0x80, 0xad, 0xe2, 0x04, 0x00, 0x04]));
    await once(raw, 'close');

    const d3 = await TestDispenser.connect(gateway, 'D3');
    const cut = new Promise<void>((resolve) => d3.client.once('close', () => resolve()));
    d3.client.publish(dispenserTopic('D3', 'auth/request'), Buffer.alloc(200_000, 0x41), { qos: 1 });
    await cut;
    await d3.client.endAsync(true);
    const d4 = await TestDispenser.connect(gateway, 'D4');
    expect(await d4.authorise(d4.request('0700000103', 1000))).toMatchObject({ approved: true });
    await d4.close();
  });
});

describe('broker access control', () => {
  it('refuses a wrong password, an unknown user and a client id that is not the dispenser id', async () => {
    await expect(connectMqtt(gateway.mqttPort, 'D3', 'wrong')).rejects.toThrow(/Bad username or password/i);
    await expect(connectMqtt(gateway.mqttPort, 'nobody', 'x')).rejects.toThrow(/Bad username or password/i);
    await expect(connectMqtt(gateway.mqttPort, 'D3', demoPassword(gateway, 'D3'), { clientId: 'D4' })).rejects.toThrow(
      /Bad username or password/i,
    );
  });

  it("refuses a dispenser's subscription to another dispenser's topics", async () => {
    // The SUBACK carries failure code 128, which MQTT.js reports as a subscribe error.
    await expect(d1.client.subscribeAsync(dispenserTopic('D2', 'auth/response'), { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    await expect(d1.client.subscribeAsync('tusafishe/v1/d/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(d1.client.connected).toBe(true);
  });

  it("refuses and disconnects a dispenser publishing on another dispenser's topic; nothing is authorised", async () => {
    const intruder = await connectMqtt(gateway.mqttPort, 'D5', demoPassword(gateway, 'D5'));
    let authorised = 0;
    const count = () => authorised++;
    gateway.events.on('authorisation', count);
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish(
      dispenserTopic('D6', 'auth/request'),
      JSON.stringify({ request_id: newId(), phone: '0700000101', pin: '1234', requested_ml: 1000 }),
      { qos: 1 },
    );
    await closed;
    gateway.events.off('authorisation', count);
    expect(authorised).toBe(0);
    intruder.end(true);
  });
});

describe('dispenser config and status', () => {
  it('publishes the retained config and republishes it when calibrated', async () => {
    const d3 = await connectMqtt(gateway.mqttPort, 'D3', demoPassword(gateway, 'D3'));
    const topic = dispenserTopic('D3', 'config');
    const config = (payload: Buffer) => DispenserConfig.parse(JSON.parse(payload.toString()));
    const initial = nextMessage(d3, topic, config);
    await d3.subscribeAsync(topic, { qos: 1 });
    expect(await initial).toMatchObject({ kiosk_id: 'K1', pulses_per_litre: 450, enabled: true });
    const changed = nextMessage(d3, topic, (p) => (config(p).pulses_per_litre === 480 ? config(p) : undefined));
    await gateway.setDispenserConfig('D3', { pulses_per_litre: 480 });
    expect(await changed).toMatchObject({ pulses_per_litre: 480 });
    expect(gateway.store.dispensers.get('D3')?.config.pulses_per_litre).toBe(480);
    await d3.endAsync();
  });

  it('tracks online status from the retained status and last will, and heartbeats', async () => {
    const statusTopic = dispenserTopic('D4', 'status');
    const d4 = await connectMqtt(gateway.mqttPort, 'D4', demoPassword(gateway, 'D4'), {
      will: { topic: statusTopic, payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
    });
    const online = once(gateway.events, 'dispenser-status');
    await d4.publishAsync(statusTopic, JSON.stringify({ online: true, firmware: '1.0.0' }), { qos: 1, retain: true });
    expect((await online)[0]).toMatchObject({ dispenser_id: 'D4', online: true, firmware: '1.0.0' });
    const beat = once(gateway.events, 'dispenser-status');
    const heartbeat = {
      firmware: '1.0.0',
      uptime_s: 5,
      rssi_dbm: -60,
      free_heap: 100_000,
      dispenses: 0,
      delivered_ml: 0,
      errors: 0,
    };
    await d4.publishAsync(dispenserTopic('D4', 'heartbeat'), JSON.stringify(heartbeat), { qos: 1 });
    expect((await beat)[0]).toMatchObject({ heartbeat });
    const offline = once(gateway.events, 'dispenser-status');
    d4.stream.destroy(); // an unclean loss fires the last will
    expect((await offline)[0]).toMatchObject({ dispenser_id: 'D4', online: false });
    expect(gateway.store.dispensers.get('D4')).toMatchObject({ online: false, last_heartbeat: heartbeat });
  });
});

describe('MQTT over WebSocket', () => {
  it('serves the same broker at /mqtt on the HTTP port', async () => {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${gateway.httpPort}/mqtt`, {
      clientId: 'D6',
      username: 'D6',
      password: demoPassword(gateway, 'D6'),
      reconnectPeriod: 0,
      connectTimeout: TEST_TIMEOUT_MS,
    });
    await client.subscribeAsync(dispenserTopic('D6', 'auth/response'), { qos: 1 });
    const requestId = newId();
    const answer = nextMessage(
      client,
      dispenserTopic('D6', 'auth/response'),
      (p) => JSON.parse(p.toString()) as unknown,
    );
    await client.publishAsync(
      dispenserTopic('D6', 'auth/request'),
      JSON.stringify({ request_id: requestId, phone: '0700000106', pin: '1234', requested_ml: 1000 }),
      { qos: 1 },
    );
    expect(await answer).toMatchObject({ request_id: requestId, approved: false, reason: 'ACCOUNT_INACTIVE' });
    await client.endAsync();
  });
});
