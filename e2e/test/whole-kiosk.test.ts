/**
 * The whole kiosk as `npm start` runs it (cloud, gateway, simulated hardware and six
 * dispensers, each part its own process), driven only through the interfaces people
 * use: a phone's USSD session in Africa's Talking's format, the mobile-money
 * provider's approval, a dispenser's keypad and LCD, and the technicians' API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { signFirmware } from '@tusafishe/protocol/signed-firmware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../fleet/src/gateway-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PHONE = '+256771234567';
const TECHNICIAN = { username: 'otieno', password: 'e2e-technician-pw' };

let dataDir: string;
let kiosk: ChildProcess;
let ports: { cloud: number; http: number; mqtt: number; mtn: number; airtel: number };
let cookie = '';
const bannerLines: string[] = [];

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

/** One USSD request exactly as Africa's Talking sends it. */
async function ussd(text: string, sessionId = `e2e-${Math.random()}`): Promise<string> {
  const body = new URLSearchParams({ sessionId, serviceCode: '*123#', phoneNumber: PHONE, networkCode: '64110', text });
  const response = await fetch(`http://127.0.0.1:${ports.cloud}/ussd`, { method: 'POST', body });
  expect(response.status).toBe(200);
  return response.text();
}

async function technician<T>(path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${ports.http}${path}`, { headers: { cookie } });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

/** Presses keys on a running simulated dispenser through its front-panel endpoint; resolves with the LCD once `done` holds. */
async function pressKeys(dispenserId: string, keys: string[], done: (lcd: string[]) => boolean): Promise<string[]> {
  const { port } = JSON.parse(await readFile(join(dataDir, 'dispensers', dispenserId, 'control.json'), 'utf8')) as {
    port: number;
  };
  const socket = connect(port, '127.0.0.1');
  const views: string[][] = [];
  createInterface({ input: socket }).on('line', (line) => views.push((JSON.parse(line) as { lcd: string[] }).lcd));
  await once(socket, 'connect');
  try {
    for (const key of keys) {
      const seen = views.length;
      socket.write(`${JSON.stringify({ keys: key })}\n`);
      await until(`the LCD to react to ${key}`, async () => (views.length > seen ? true : undefined));
    }
    return await until('the dispense to finish', async () => views.find(done), 30_000);
  } finally {
    socket.destroy();
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tusafishe-e2e-'));
  ports = {
    cloud: await freePort(),
    http: await freePort(),
    mqtt: await freePort(),
    mtn: await freePort(),
    airtel: await freePort(),
  };
  kiosk = spawn(process.execPath, ['--import', 'tsx', 'scripts/start-kiosk.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      CLOUD_PORT: String(ports.cloud),
      GATEWAY_HTTP_PORT: String(ports.http),
      GATEWAY_MQTT_PORT: String(ports.mqtt),
      MTN_SIMULATOR_PORT: String(ports.mtn),
      AIRTEL_SIMULATOR_PORT: String(ports.airtel),
      TECHNICIAN_USERNAME: TECHNICIAN.username,
      TECHNICIAN_PASSWORD: TECHNICIAN.password,
      GATEWAY_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const banner = createInterface({ input: kiosk.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the kiosk did not start within 90 s')), 90_000);
    kiosk.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
    banner.on('line', (line) => {
      bannerLines.push(line);
      if (!line.includes('is running')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  const signIn = await fetch(`http://127.0.0.1:${ports.http}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(TECHNICIAN),
  });
  expect(signIn.status).toBe(200);
  cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
}, 120_000);

afterAll(async () => {
  if (kiosk && kiosk.exitCode === null) {
    const exited = once(kiosk, 'exit');
    kiosk.kill('SIGTERM');
    await exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('the whole kiosk, as npm start runs it', () => {
  it('registers by USSD, tops up by MTN MoMo, draws water at a dispenser, and every part agrees', {
    timeout: 120_000,
  }, async () => {
    expect(await ussd('')).toMatch(/^CON /);
    const registered = await ussd('1*Jane Achieng*4826*4826');
    expect(registered).toMatch(/^END .*Your account is (TS[A-Z0-9]+)/);
    const accountId = /Your account is (TS[A-Z0-9]+)/.exec(registered)![1]!;

    expect(await ussd('2*1000*1')).toMatch(/^END .*MTN MoMo/);
    const simulator = `http://127.0.0.1:${ports.mtn}/simulator/payments`;
    const pending = await until('the payment request at MTN', async () => {
      const payments = (await (await fetch(simulator)).json()) as {
        reference: string;
        status: string;
        msisdn: string;
      }[];
      return payments.find((p) => p.msisdn === PHONE.slice(1) && p.status === 'PENDING');
    });
    expect((await fetch(`${simulator}/${pending.reference}/approve`, { method: 'POST' })).status).toBe(200);
    await until('the top-up in the cloud', async () => ((await ussd('1')).includes('400 L') ? true : undefined));

    // UGX 1,000 at UGX 50 per 20 L: 400 L, in the kiosk's replica within moments.
    const atKiosk = await until('the customer and credit at the kiosk', async () => {
      const response = await fetch(`http://127.0.0.1:${ports.http}/api/customers?q=${accountId}`, {
        headers: { cookie },
      });
      if (response.status !== 200) return undefined;
      const customer = (await response.json()) as { balance_ml: number };
      return customer.balance_ml === 400_000 ? customer : undefined;
    });
    expect(atKiosk).toMatchObject({ phone: PHONE, name: 'Jane Achieng' });

    // At the keypad: full number (another country's), PIN, then A = 1 L.
    const lcd = await pressKeys('D2', ['256771234567', '#', '4826', '#', 'A'], (screen) =>
      screen.some((row) => row.includes('Thank you')),
    );
    expect(lcd.join('\n')).toMatch(/Thank you/);

    const customer = await until('the kiosk to record the dispense', async () => {
      const c = await technician<{ balance_ml: number; today_ml: number }>(`/api/customers?q=${accountId}`);
      return c.today_ml === 1000 ? c : undefined;
    });
    expect(customer.balance_ml).toBe(399_000);
    // The gateway pushes the event; the cloud's balance is the sum of the customer's events.
    await until('the cloud to count the dispense', async () =>
      (await ussd('1')).includes('399 L') ? true : undefined,
    );
    const sync = await technician<{ online: boolean; events_waiting: number }>('/api/sync');
    expect(sync).toMatchObject({ online: true, events_waiting: 0 });
  });

  it('accepts a firmware image signed with the demo release key it made, as its banner says', async () => {
    const keyFile = join(dataDir, 'demo-release-key.pem');
    expect(bannerLines.join('\n')).toMatch(/npm run provision -- firmware sign IMAGE --key \S*demo-release-key\.pem/);
    const signed = signFirmware(
      Buffer.from('demo dispenser image'),
      { version: 'tusafishe-fw/0.2.0-demo', counter: 1 },
      await readFile(keyFile, 'utf8'),
    );
    const upload = await fetch(`http://127.0.0.1:${ports.http}/api/firmware`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(signed.file),
    });
    expect(upload.status).toBe(200);
    const { images } = await technician<{ images: { version: string; counter: number }[] }>('/api/firmware');
    expect(images).toContainEqual(expect.objectContaining({ version: 'tusafishe-fw/0.2.0-demo', counter: 1 }));
  });
});
