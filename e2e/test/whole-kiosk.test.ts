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
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_PORTS_FREE, descendants, stillRunning } from './processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PHONE = '+256771234567';
const TECHNICIAN = { username: 'otieno', password: 'e2e-technician-pw' };

let dataDir: string;
let kiosk: ChildProcess;
/** Where the parts listen, as the banner says (every port is the OS's pick). */
let urls: { cloud: string; ui: string; mtn: string };
let cookie = '';
/** Every line npm start has printed to its terminal: the banner, then what happens (SMS, the link). */
const bannerLines: string[] = [];
/** Generous: a loaded machine delivers events late; a test waits on them, never on time. */
const WAIT = { timeout: 60_000, interval: 200 };

/** The URL a banner line shows after `label`. */
function bannerUrl(label: RegExp): string {
  for (const line of bannerLines) {
    const found = new RegExp(`${label.source}\\s*(http://[^\\s,]+?)/?(?:\\s|,|$)`).exec(line);
    if (found) return found[1]!;
  }
  throw new Error(`the banner shows no ${label.source}:\n${bannerLines.join('\n')}`);
}

/** Waits for a line npm start prints, after its first `from` lines, that matches `pattern`. */
function printed(pattern: RegExp, from: number): Promise<string> {
  return vi.waitFor(() => {
    const line = bannerLines.slice(from).find((text) => pattern.test(text));
    expect(line, `npm start to print ${pattern.source}`).toBeDefined();
    return line!;
  }, WAIT);
}

/** One USSD request exactly as Africa's Talking sends it. */
async function ussd(text: string, sessionId = `e2e-${Math.random()}`): Promise<string> {
  const body = new URLSearchParams({ sessionId, serviceCode: '*123#', phoneNumber: PHONE, networkCode: '64110', text });
  const response = await fetch(`${urls.cloud}/ussd`, { method: 'POST', body });
  expect(response.status).toBe(200);
  return response.text();
}

/** Buys UGX 1,000 of water by USSD with MTN MoMo and approves the prompt at MTN's simulator. */
async function topUpByMomo(): Promise<void> {
  expect(await ussd('2*1000*1')).toMatch(/^END .*MTN MoMo/);
  const simulator = `${urls.mtn}/payments`;
  const pending = await vi.waitFor(async () => {
    const payments = (await (await fetch(simulator)).json()) as { reference: string; status: string; msisdn: string }[];
    const request = payments.find((p) => p.msisdn === PHONE.slice(1) && p.status === 'PENDING');
    expect(request, 'the payment request at MTN').toBeDefined();
    return request!;
  }, WAIT);
  expect((await fetch(`${simulator}/${pending.reference}/approve`, { method: 'POST' })).status).toBe(200);
}

async function technician<T>(path: string): Promise<T> {
  const response = await fetch(`${urls.ui}${path}`, { headers: { cookie } });
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
      await expect.poll(() => views.length, { ...WAIT, message: `the LCD to react to ${key}` }).toBeGreaterThan(seen);
    }
    return await vi.waitFor(() => {
      const finished = views.find(done);
      expect(finished, 'the dispense to finish').toBeDefined();
      return finished!;
    }, WAIT);
  } finally {
    socket.destroy();
  }
}

/** `npm run link -- <command>` as a user types it in another terminal, against this kiosk's data directory. */
async function npmRunLink(command: string): Promise<string> {
  const child = spawn('npm', ['run', '--silent', 'link', '--', command], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code, output).toBe(0);
  return output;
}

/** The keypad token in the newest SMS the cloud sent `phone` (the development outbox). */
async function tokenInLastSms(phone: string): Promise<string> {
  const response = await fetch(`${urls.cloud}/dev/sms/outbox?phone=${encodeURIComponent(phone)}`);
  expect(response.status).toBe(200);
  const { messages } = (await response.json()) as { messages: { message: string }[] };
  const token = /type A, your number, # then (\d{5} \d{5} \d{5}) #/.exec(messages[0]?.message ?? '');
  expect(token, `a token in the last SMS: ${messages[0]?.message}`).not.toBeNull();
  return token![1]!.replaceAll(' ', '');
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tusafishe-e2e-'));
  // `npm start` itself (its UI build skipped: nothing here uses the UI), so a signal takes the path
  // it takes for a user: npm → the orchestrator → the cloud and gateway processes.
  kiosk = spawn('npm', ['start', '--ignore-scripts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      ...DEMO_PORTS_FREE,
      TECHNICIAN_USERNAME: TECHNICIAN.username,
      TECHNICIAN_PASSWORD: TECHNICIAN.password,
      GATEWAY_HOST: '127.0.0.1',
    },
    // stdin: the keys a user types in npm start's terminal (here a pipe: no terminal to set raw).
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const banner = createInterface({ input: kiosk.stdout! });
  await new Promise<void>((resolve, reject) => {
    // Generous: on a loaded 2-core machine npm, tsx and two parts' imports take minutes.
    const timer = setTimeout(() => reject(new Error('the kiosk did not start within 360 s')), 360_000);
    kiosk.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
    banner.on('line', (line) => {
      bannerLines.push(line);
      if (!line.includes('is running')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  urls = { cloud: bannerUrl(/Cloud/), ui: bannerUrl(/Technicians' UI/), mtn: bannerUrl(/MTN MoMo/) };
  const signIn = await fetch(`${urls.ui}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(TECHNICIAN),
  });
  expect(signIn.status).toBe(200);
  cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
}, 370_000);

afterAll(async () => {
  if (kiosk && kiosk.exitCode === null && kiosk.signalCode === null) {
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

    await topUpByMomo();
    await expect.poll(() => ussd('1'), { ...WAIT, message: 'the top-up in the cloud' }).toContain('400 L');

    // UGX 1,000 at UGX 50 per 20 L: 400 L, in the kiosk's replica within moments.
    const atKiosk = await vi.waitFor(async () => {
      const response = await fetch(`${urls.ui}/api/customers?q=${accountId}`, { headers: { cookie } });
      expect(response.status, 'the customer at the kiosk').toBe(200);
      const customer = (await response.json()) as { balance_ml: number };
      expect(customer.balance_ml, 'the credit at the kiosk').toBe(400_000);
      return customer;
    }, WAIT);
    expect(atKiosk).toMatchObject({ phone: PHONE, name: 'Jane Achieng' });

    // At the keypad: full number (another country's), PIN, then A = 1 L.
    const lcd = await pressKeys('D2', ['256771234567', '#', '4826', '#', 'A'], (screen) =>
      screen.some((row) => row.includes('Thank you')),
    );
    expect(lcd.join('\n')).toMatch(/Thank you/);

    const customer = await vi.waitFor(async () => {
      const c = await technician<{ balance_ml: number; today_ml: number }>(`/api/customers?q=${accountId}`);
      expect(c.today_ml, 'the kiosk to record the dispense').toBe(1000);
      return c;
    }, WAIT);
    expect(customer.balance_ml).toBe(399_000);
    // The gateway pushes the event; the cloud's balance is the sum of the customer's events.
    await expect.poll(() => ussd('1'), { ...WAIT, message: 'the cloud to count the dispense' }).toContain('399 L');
    // The cloud's answer to that push may still be on its way when the USSD answer shows it.
    await expect
      .poll(() => technician<{ online: boolean; events_waiting: number }>('/api/sync'), {
        ...WAIT,
        message: 'the kiosk to have the cloud acknowledge it',
      })
      .toMatchObject({ online: true, events_waiting: 0 });
  });

  it('accepts a firmware image signed with the demo release key it made, as its banner says', async () => {
    const keyFile = join(dataDir, 'demo-release-key.pem');
    expect(bannerLines.join('\n')).toMatch(/npm run provision -- firmware sign IMAGE --key \S*demo-release-key\.pem/);
    const signed = signFirmware(
      Buffer.from('demo dispenser image'),
      { version: 'tusafishe-fw/0.2.0-demo', counter: 1 },
      await readFile(keyFile, 'utf8'),
    );
    const upload = await fetch(`${urls.ui}/api/firmware`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(signed.file),
    });
    expect(upload.status).toBe(200);
    const { images } = await technician<{ images: { version: string; counter: number }[] }>('/api/firmware');
    expect(images).toContainEqual(expect.objectContaining({ version: 'tusafishe-fw/0.2.0-demo', counter: 1 }));
  });

  it('serves a top-up made while the link is cut as the SMS token typed at the keypad, counted once when it returns', {
    timeout: 300_000,
  }, async () => {
    expect(await npmRunLink('cut')).toMatch(/link: cut/);
    const kiosk = () => technician<{ balance_ml: number }>(`/api/customers?q=${encodeURIComponent(PHONE)}`);
    expect((await kiosk()).balance_ml).toBe(399_000);

    // UGX 1,000 more by MTN MoMo: the cloud has it at once, the cut-off kiosk cannot.
    await topUpByMomo();
    await expect.poll(() => ussd('1'), { ...WAIT, message: 'the top-up in the cloud' }).toContain('799 L');
    const token = await tokenInLastSms(PHONE);
    expect((await kiosk()).balance_ml).toBe(399_000);

    // At the keypad: A, the number, #, the token from the SMS, #: the credit is there at once.
    const lcd = await pressKeys('D3', ['A', '256771234567', '#', token, '#'], (screen) =>
      screen.some((row) => row.includes('Press any key')),
    );
    expect(lcd.join('|')).toMatch(/Credit added\s*\|Token: 400L\s*\|Balance 799L/);
    expect((await kiosk()).balance_ml).toBe(799_000);

    // The link returns: the kiosk pushes its credit, which the cloud already holds under the same id.
    expect(await npmRunLink('restore')).toMatch(/link: up/);
    // Generous: the gateway retries the cloud with backoff (up to 30 s) while the link was cut.
    await expect
      .poll(() => technician<{ online: boolean; events_waiting: number }>('/api/sync'), {
        timeout: 120_000,
        interval: 500,
      })
      .toMatchObject({ online: true, events_waiting: 0 });
    expect(await ussd('1')).toContain('799 L');
    expect((await kiosk()).balance_ml).toBe(799_000);
  });

  it('cuts and restores the link with the keys c and r typed at npm start, as its banner says', async () => {
    expect(bannerLines.join('\n')).toMatch(/Keys here: c cuts the kiosk's link to the cloud, r restores it/);
    let from = bannerLines.length;
    kiosk.stdin!.write('c');
    await printed(/^\d\d:\d\d:\d\d {2}kiosk ↔ cloud link: cut \(the gateway works offline\)$/, from);
    expect(await npmRunLink('status')).toMatch(/link: cut/);
    from = bannerLines.length;
    kiosk.stdin!.write('r');
    await printed(/^\d\d:\d\d:\d\d {2}kiosk ↔ cloud link: up$/, from);
    kiosk.stdin!.write('?');
    await printed(/keys: c cuts the kiosk's link to the cloud, r restores it/, from);
  });

  it('prints each SMS the cloud sends in its terminal, as the demo phone gets it: time, number, text', async () => {
    const from = bannerLines.length;
    // An SMS command as Africa's Talking forwards it; the answer is an SMS.
    const inbound = await fetch(`${urls.cloud}/sms/inbound`, {
      method: 'POST',
      body: new URLSearchParams({
        from: PHONE,
        to: '12345',
        text: 'BALANCE',
        date: new Date().toISOString(),
        id: `e2e-${Date.now()}`,
        linkId: `e2e-link-${Date.now()}`,
      }),
    });
    expect(inbound.status).toBe(200);
    await printed(/^\d\d:\d\d:\d\d {2}SMS to \+256771234567: Balance: 799 L\. Account TS/, from);
    // Every message the phone was sent (the top-ups' credit and keypad token too), each on one line.
    const response = await fetch(`${urls.cloud}/dev/sms/outbox?phone=${encodeURIComponent(PHONE)}`);
    const { messages } = (await response.json()) as { messages: { message: string }[] };
    expect(messages.length).toBeGreaterThanOrEqual(3);
    for (const { message } of messages) {
      const line = `SMS to ${PHONE}: ${message.replace(/\s*\n\s*/g, ' / ')}`;
      await expect.poll(() => bannerLines.some((text) => text.endsWith(line)), WAIT).toBe(true);
    }
  });

  it('stops every part it started when npm start gets SIGTERM, leaving no process behind', async () => {
    const below = descendants(kiosk.pid!);
    // The orchestrator, the cloud and the gateway (and what they run: esbuild, the simulators' socat).
    expect(below.length).toBeGreaterThanOrEqual(3);
    const exited = once(kiosk, 'exit');
    kiosk.kill('SIGTERM');
    await exited;
    await expect.poll(() => stillRunning(below), WAIT).toEqual([]);
  });
});
