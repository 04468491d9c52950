import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretToken } from '@tusafishe/protocol/testing';
import { REDACT_PATHS } from '../src/logger.js';
import { connectMqtt, startTestGateway, TestDispenser, type TestGateway } from './fixtures.js';

const lines: string[] = [];
let gateway: TestGateway;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  gateway = await startTestGateway({
    logger: pino({ level: 'trace', redact: REDACT_PATHS }, sink),
    legacyVerification: { open: true },
  });
});
afterAll(async () => {
  await gateway?.close();
});

describe('logs', () => {
  it('never contain a PIN or a password, whatever the outcome', async () => {
    const dispenser = await TestDispenser.connect(gateway, 'D1');
    await dispenser.authorise(dispenser.request('0700000101', 1000, '9876'));
    await dispenser.authorise({
      requestId: '0193a5b0-0000-7000-8000-000000000009',
      payload: '{"request_id":"0193a5b0-0000-7000-8000-000000000009","pin":"5432"}',
    });
    await dispenser.close();
    await expect(connectMqtt(gateway.mqttPort, 'D2', 'hunter2-secret')).rejects.toThrow();
    await fetch(`http://127.0.0.1:${gateway.httpPort}/dispense-verification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kiosk_id: 'K1', user_id: '0700000102', pin: '6543', volume_ml: 'x' }),
    });
    const log = lines.join('');
    expect(log).toContain('authorisation answered');
    expect(log).toContain('broker login refused');
    for (const secret of ['9876', '5432', 'hunter2-secret', '6543', gateway.demo!.dispensers[0]!.password])
      expect(log).not.toMatch(secretToken(secret));
  });
});
