/**
 * Any standard MQTT client must work against the kiosk broker, not only MQTT.js: these
 * use Eclipse Mosquitto's command-line clients (Debian's mosquitto-clients, installed
 * by .ci/run) as a technician would from a laptop on the kiosk WiFi.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { dispenserTopic, newId } from '@tusafishe/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPassword, startTestGateway, type TestGateway } from './fixtures.js';

const run = promisify(execFile);
const installed = existsSync('/usr/bin/mosquitto_rr') && existsSync('/usr/bin/mosquitto_sub');

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway?.close();
});

/** Login options of a demo dispenser for the mosquitto clients (MQTT 3.1.1, client id = username). */
const login = (id: string): string[] => [
  '-h',
  '127.0.0.1',
  '-p',
  String(gateway.mqttPort),
  '-V',
  'mqttv311',
  '-i',
  id,
  '-u',
  id,
  '-P',
  demoPassword(gateway, id),
];

describe.skipIf(!installed)('standard MQTT clients (mosquitto-clients)', () => {
  it('mosquitto_sub reads a dispenser its retained config', async () => {
    const { stdout } = await run('mosquitto_sub', [
      ...login('D5'),
      '-t',
      dispenserTopic('D5', 'config'),
      '-C',
      '1',
      '-W',
      '10',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ kiosk_id: 'K1', pulses_per_litre: 450, enabled: true });
  });

  it('mosquitto_rr asks for an authorisation and gets the answer', async () => {
    const requestId = newId();
    const request = JSON.stringify({ request_id: requestId, phone: '0700000105', pin: '1234', requested_ml: 1000 });
    const { stdout } = await run('mosquitto_rr', [
      ...login('D6'),
      '-q',
      '1',
      '-t',
      dispenserTopic('D6', 'auth/request'),
      '-e',
      dispenserTopic('D6', 'auth/response'),
      '-m',
      request,
      '-W',
      '10',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ request_id: requestId, approved: true, approved_ml: 1000 });
  });

  it("refuses mosquitto_sub on another dispenser's topic", async () => {
    const { stdout, stderr } = await run('mosquitto_sub', [
      ...login('D5'),
      '-t',
      dispenserTopic('D6', 'auth/response'),
      '-C',
      '1',
      '-W',
      '3',
    ]);
    expect(stderr).toMatch(/subscription requests were denied/i);
    expect(stdout).toBe('');
  });
});
