import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@tusafishe/protocol';
import { pino } from 'pino';
import type { RunningCloud } from '../src/cloud.js';
import { createCustomer, findCustomer } from '../src/customers/customers.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { loggerOptions } from '../src/logger.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { TEST_OPERATOR_PASSWORD } from './console-session.js';
import { createOperator } from '../src/console/operator-accounts.js';
import { dial, postForm } from './africas-talking.js';
import { kioskClient } from './kiosk-client.js';

let seq = 0;
/** A fresh MTN Uganda number per test. */
const phone = (): string => `+25678${String(2_000_000 + process.pid * 10 + (seq += 1)).slice(-7)}`;
const HOOK = 'hook-secret-fail-closed';

// Issue 10 §11: the cloud fails closed.
/** A console sign-in, as from behind a proxy when `forwardedFor` is given. */
function signIn(cloud: RunningCloud, username: string, password: string, forwardedFor?: string): Promise<Response> {
  return fetch(`${cloud.url}/console/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: JSON.stringify({ username, password }),
  });
}

describe.each(backends())('the cloud fails closed, on $name', (backend) => {
  let cloud: RunningCloud;
  let kiosk: KioskCredential;
  const lines: string[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud(backend, {
      logger: pino(loggerOptions('info'), { write: (line: string) => void lines.push(line) }),
      webhookSecret: HOOK,
      authFailures: { max: 3, windowMs: 600_000 },
      pinLockout: { maxFailures: 4, lockoutMs: 900_000 },
    });
    kiosk = await createKiosk(cloud.db, { kioskId: 'KIOSK-F' });
  });
  afterAll(() => stopTestCloud(cloud, backend));

  it('throttles failed operator sign-ins per address before checking the password, and logs each failure', async () => {
    await createOperator(cloud.db, { username: 'ops-fc', role: 'admin', password: TEST_OPERATOR_PASSWORD });
    // Unknown names and wrong passwords alike; a signed-out browser's 401s elsewhere spend nothing.
    expect((await fetch(`${cloud.url}/console/api/session`)).status).toBe(401);
    // X-Forwarded-For from a proxy nobody configured is not believed: one address, one budget.
    for (let i = 0; i < 3; i += 1)
      expect((await signIn(cloud, i === 0 ? 'nobody' : 'ops-fc', 'guess-password', `203.0.113.${i}`)).status).toBe(401);
    const refused = await signIn(cloud, 'ops-fc', TEST_OPERATOR_PASSWORD, '203.0.113.99');
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: 'AUTH_RATE_LIMITED' });
    const failures = lines.filter((line) => line.includes('authentication failed') && line.includes('"operator"'));
    expect(failures).toHaveLength(3);
    // Kiosk and webhook budgets are their own.
    expect((await kioskClient(cloud.url, kiosk).pull()).status).toBe(200);
  });

  it('serves no development SMS outbox unless asked', async () => {
    expect((await fetch(`${cloud.url}/dev/sms/outbox`)).status).toBe(404);
  });

  it('counts wrong old PINs on USSD toward the lockout every keypad obeys', async () => {
    const number = phone();
    const customer = await createCustomer(cloud.db, { phone: number, name: 'Pin Guesser', pin: '4826' });
    const hooked = (inputs: string[]) => dial(cloud.url, number, inputs, '64110', `?token=${HOOK}`);
    // Two sessions of two wrong guesses each (replayed inputs count once): the fourth locks.
    expect((await hooked(['3', '1357', '2468'])).at(-1)).toMatch(/^CON Wrong PIN/);
    expect((await findCustomer(cloud.db, customer.account_id))?.locked_until).toBeNull();
    expect((await hooked(['3', '1470', '2581'])).at(-1)).toMatch(/^END Too many wrong PINs/);
    const locked = (await findCustomer(cloud.db, customer.account_id))?.locked_until;
    expect(locked).toBeGreaterThan(Date.now() + 800_000);
    // Locked: even the right PIN is refused, and the gateways pull the lockout.
    expect((await hooked(['3', '4826'])).at(-1)).toMatch(/^END Too many wrong PINs/);
    const pulled = await kioskClient(cloud.url, await createKiosk(cloud.db, { kioskId: 'KIOSK-G' })).pull();
    expect(pulled.body.customers.find((c) => c.account_id === customer.account_id)?.locked_until).toBe(locked);
  });

  it('refuses the old PIN on USSD while a keypad lockout holds', async () => {
    const number = phone();
    const customer = await createCustomer(cloud.db, { phone: number, name: 'Keypad Locked', pin: '4826' });
    const other = await createKiosk(cloud.db, { kioskId: 'KIOSK-H' });
    const pushed = await kioskClient(cloud.url, other).push([
      {
        event_id: newId(),
        type: 'pin_lockout',
        account_id: customer.account_id,
        amount_ml: 0,
        kiosk_id: 'KIOSK-H',
        occurred_at: Date.now(),
        details: { locked_until: Date.now() + 600_000 },
      },
    ]);
    expect(pushed.body.acked).toHaveLength(1);
    const screens = await dial(cloud.url, number, ['3', '4826'], '64110', `?token=${HOOK}`);
    expect(screens.at(-1)).toMatch(/^END Too many wrong PINs/);
  });

  // Last: it spends this address's kiosk and webhook budgets.
  it('throttles failed kiosk and webhook authentication the same way', async () => {
    const wrong = kioskClient(cloud.url, { kioskId: 'KIOSK-F', secret: 'not-the-secret' });
    for (let i = 0; i < 3; i += 1) expect((await wrong.pull()).status).toBe(401);
    expect((await kioskClient(cloud.url, kiosk).pull()).status).toBe(429);

    const sms = (token: string) =>
      postForm(`${cloud.url}/sms/inbound?token=${token}`, { from: phone(), text: 'HELP', id: newId() });
    for (let i = 0; i < 3; i += 1) expect((await sms('wrong-secret-guess')).status).toBe(401);
    expect((await sms(HOOK)).status).toBe(429);
  });
});

describe.each(backends())('per-phone and per-proxy keys, on $name', (backend) => {
  let cloud: RunningCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(backend, {
      trustedProxies: ['127.0.0.1'],
      authFailures: { max: 2, windowMs: 600_000 },
      rateLimits: { requestsPerPhonePerMinute: 3, phoneWindowMs: 3_600_000 },
    });
  });
  afterAll(() => stopTestCloud(cloud, backend));

  it('limits a phone however its number is written', async () => {
    const number = phone();
    const local = number.replace('+', '');
    const spaced = `${number.slice(0, 4)} ${number.slice(4, 7)} ${number.slice(7)}`;
    const screens = await Promise.all(
      [number, local, spaced, local].map(
        async (written, i) => (await dial(cloud.url, written, [], '64110', `?n=${i}`))[0],
      ),
    );
    expect(screens.filter((screen) => screen?.startsWith('END Service busy'))).toHaveLength(1);
  });

  it("keys failures by the client's address when the proxy is configured", async () => {
    const guess = (forwardedFor: string) => signIn(cloud, 'nobody', 'guess-password', forwardedFor);
    for (let i = 0; i < 2; i += 1) expect((await guess('198.51.100.7')).status).toBe(401);
    expect((await guess('198.51.100.7')).status).toBe(429);
    expect((await guess('198.51.100.8')).status).toBe(401);
  });
});
