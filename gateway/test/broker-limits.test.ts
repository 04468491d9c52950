import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { LoginVerifier } from '../src/broker/login-verifier.js';
import { connectMqtt, demoPassword, startTestGateway, type TestGateway } from './fixtures.js';

const gateways: TestGateway[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const gateway of gateways.splice(0)) await gateway.close();
});

async function gatewayWith(options: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const gateway = await startTestGateway(options);
  gateways.push(gateway);
  return gateway;
}

/** An MQTT fixed header announcing a CONNECT of `length` bytes (remaining length, 4 bytes). */
function hugeConnectHeader(length: number): Buffer {
  const bytes = [0x10];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

describe('MQTT over WebSocket', () => {
  it('cuts a client streaming one huge packet in small frames before it is buffered', async () => {
    const gateway = await gatewayWith();
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.httpPort}/mqtt`, 'mqtt');
    await once(ws, 'open');
    const closed = once(ws, 'close');
    const frame = Buffer.alloc(8 * 1024, 0x41);
    const send = (data: Buffer) => new Promise<void>((resolve) => ws.send(data, () => resolve()));
    await send(hugeConnectHeader(11 * 1024 * 1024));
    // 1 MB in 8 KB frames, each within the WebSocket message limit; unguarded, the broker
    // would keep collecting them toward 11 MB and never close the connection.
    for (let sent = 0; sent < 1024 * 1024 && ws.readyState === WebSocket.OPEN; sent += frame.length) await send(frame);
    await closed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});

describe('connections not logged in', () => {
  it('are capped per address; a dispenser gets in once they are gone', async () => {
    const gateway = await gatewayWith({ brokerLimits: { maxPendingPerAddress: 3 } });
    const open = async () => {
      const socket = connect(gateway.mqttPort, '127.0.0.1');
      sockets.push(socket);
      await once(socket, 'connect');
      return socket;
    };
    const idle = [await open(), await open(), await open()];
    const fourth = await open();
    await once(fourth, 'close');
    expect(idle.every((socket) => !socket.destroyed)).toBe(true);
    for (const socket of idle) socket.destroy();
    // The gateway hears the closes a moment later; until then a login may still be turned away.
    const logsIn = () =>
      new Promise<boolean>((resolve) => {
        const client = mqtt.connect(`mqtt://127.0.0.1:${gateway.mqttPort}`, {
          clientId: 'D1',
          username: 'D1',
          password: demoPassword(gateway, 'D1'),
          reconnectPeriod: 0,
        });
        client.once('connect', () => {
          resolve(true);
          client.end();
        });
        client.once('close', () => resolve(false));
      });
    await expect.poll(logsIn, { timeout: 10_000 }).toBe(true);
  });

  it('refuses every login from an address after its budget of refused ones, unchecked', async () => {
    const gateway = await gatewayWith({ brokerLimits: { failedLoginsPerWindow: 3 } });
    for (let i = 0; i < 3; i++) {
      await expect(connectMqtt(gateway.mqttPort, 'D2', `wrong-secret-${i}`)).rejects.toThrow(
        /Bad username or password/,
      );
    }
    await expect(connectMqtt(gateway.mqttPort, 'D2', demoPassword(gateway, 'D2'))).rejects.toThrow(/Not authorized/);
  });
});

describe('broker-login hashing', () => {
  it('runs through a bounded queue, and a secret already verified needs no hash', async () => {
    const hash = await hashSecret('dispenser-secret');
    const logins = new LoginVerifier({ concurrency: 1, maxWaiting: 1 });
    await expect(logins.verify('dispenser-secret', hash)).resolves.toBe(true);
    const flood = [logins.verify('guess-1', hash), logins.verify('guess-2', hash), logins.verify('guess-3', hash)];
    // One hashing, one waiting, the third refused at once; the known dispenser still gets in.
    await expect(logins.verify('dispenser-secret', hash)).resolves.toBe(true);
    const results = await Promise.allSettled(flood);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as { code: string }).code))).toEqual([
      false,
      false,
      'BROKER_BUSY',
    ]);
  });

  it('answers a login refused for a full queue as "server unavailable", and counts no failure', async () => {
    // No hash slot at all: every login that needs a hash finds the queue full, whatever the
    // machine's speed (a race of CONNECTs against one 2 ms hash could let each through in turn).
    const gateway = await gatewayWith({
      brokerLimits: { loginHashConcurrency: 0, maxLoginsWaiting: 0, failedLoginsPerWindow: 2 },
    });
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      answers.push(
        await connectMqtt(gateway.mqttPort, 'D1', `wrong-secret-${i}`).then(
          () => 'connected',
          (e: Error) => e.message,
        ),
      );
    }
    // Counted as failures, the third would be refused unchecked as "not authorized".
    expect(answers.every((answer) => /Server unavailable/.test(answer))).toBe(true);
  });
});
