import { dispenserTopic } from '@tusafishe/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerPrincipal } from '../src/broker/authorizer.js';
import { nextMessage, startTestGateway, TestDispenser, TEST_TIMEOUT_MS, type TestGateway } from './fixtures.js';

/** What the UI will add: a technician who may read every dispenser's status, and write nothing. */
const technician: BrokerPrincipal = {
  kind: 'technician',
  id: 'tech',
  mayPublish: () => false,
  maySubscribe: (filter) => filter === 'tusafishe/v1/d/+/status',
};

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway({
    setup: ({ broker, http }) => {
      broker.authorizer.add(async ({ username, password }) => {
        if (username !== 'tech') return null;
        return password === 'tech-pass' ? technician : { refused: 'wrong password' };
      });
      http.get('/extra', async () => ({ extra: true }));
    },
  });
});
afterAll(async () => {
  await gateway?.close();
});

describe('extension seams', () => {
  it('lets a registered authenticator give a browser client read-only access over /mqtt', async () => {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${gateway.httpPort}/mqtt`, {
      clientId: 'tech-browser',
      username: 'tech',
      password: 'tech-pass',
      reconnectPeriod: 0,
      connectTimeout: TEST_TIMEOUT_MS,
    });
    await client.subscribeAsync('tusafishe/v1/d/+/status', { qos: 1 });
    await expect(client.subscribeAsync(dispenserTopic('D1', 'auth/response'), { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );

    const status = nextMessage(client, dispenserTopic('D2', 'status'), (p) => JSON.parse(p.toString()) as unknown);
    const d2 = await TestDispenser.connect(gateway, 'D2');
    await d2.client.publishAsync(dispenserTopic('D2', 'status'), JSON.stringify({ online: true }), {
      qos: 1,
      retain: true,
    });
    expect(await status).toEqual({ online: true });
    await d2.close();
    await client.endAsync();
  });

  it('registers extra HTTP routes before the server listens', async () => {
    expect(await (await fetch(`http://127.0.0.1:${gateway.httpPort}/extra`)).json()).toEqual({ extra: true });
  });

  it('validates and republishes dispenser config changes, refusing unknown dispensers and bad values', async () => {
    await expect(gateway.setDispenserConfig('D9', { enabled: false })).rejects.toMatchObject({
      code: 'UNKNOWN_DISPENSER',
    });
    await expect(gateway.setDispenserConfig('D1', { pulses_per_litre: 0 })).rejects.toThrow();
    expect(gateway.store.dispensers.get('D1')?.config.pulses_per_litre).toBe(450);
    const d1 = await TestDispenser.connect(gateway, 'D1');
    await gateway.setDispenserConfig('D1', { enabled: false });
    expect(await d1.authorise(d1.request('0700000101', 1000))).toMatchObject({
      approved: false,
      reason: 'DISPENSER_DISABLED',
      message: 'Out of service',
    });
    await d1.close();
  });
});
