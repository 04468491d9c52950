import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretToken } from '@tusafishe/protocol/testing';
import { verifySecret } from '@tusafishe/protocol/secret-hash';
import { pino } from 'pino';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { loggerOptions } from '../src/logger.js';
import { findCustomerByPhone } from '../src/customers/customers.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { dial, postForm, ussdSession } from './africas-talking.js';

let seq = 0;
/** A fresh MTN Uganda number per test. */
const phone = (): string => `+25677${String(1_000_000 + process.pid * 10 + (seq += 1)).slice(-7)}`;

describe.each(backends())('USSD on $name', (backend) => {
  let cloud: RunningCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(backend, { webhookSecret: 'at-secret', simulators: {} });
  });
  afterAll(() => stopTestCloud(cloud, backend));
  const url = (): string => cloud.url;

  // Africa's Talking carries the secret in the callback URL configured on its dashboard.
  const session = (number: string) => ussdSession(url(), number, '64110', '?token=at-secret');
  async function run(number: string, inputs: string[]): Promise<string[]> {
    const s = session(number);
    const screens = [await s.start()];
    for (const input of inputs) screens.push(await s.send(input));
    return screens;
  }

  it('registers a customer in English and shows the account id; the gateway can verify the PIN', async () => {
    const number = phone();
    const screens = await run(number, ['1', 'Jane Achieng', '4826', '4826']);
    expect(screens[0]).toMatch(/^CON Welcome to Tusafishe/);
    expect(screens[1]).toBe('CON Enter your full name:');
    expect(screens[2]).toMatch(/^CON Choose a 4-digit PIN/);
    expect(screens[3]).toBe('CON Enter the PIN again:');
    expect(screens[4]).toMatch(/^END Welcome Jane Achieng! Your account is TS[0-9A-HJKMNP-TV-Z]{7}\./);
    const customer = await findCustomerByPhone(cloud.db, number);
    expect(customer).toMatchObject({ name: 'Jane Achieng', status: 'active', language: 'en', balance_ml: 0 });
    expect(screens[4]).toContain(customer!.account_id);
    expect(customer!.pin_hash).not.toMatch(secretToken('4826'));
    expect(await verifySecret('4826', customer!.pin_hash)).toBe(true);
  });

  it('registers a customer in Swahili', async () => {
    const number = phone();
    const screens = await run(number, ['2', 'Baraka Mwangi', '7319', '7319']);
    expect(screens[1]).toBe('CON Weka jina lako kamili:');
    expect(screens[2]).toMatch(/^CON Chagua PIN/);
    expect(screens[3]).toBe('CON Weka PIN tena:');
    expect(screens[4]).toMatch(/^END Karibu Baraka Mwangi! Akaunti yako ni TS/);
    expect((await findCustomerByPhone(cloud.db, number))?.language).toBe('sw');
    // Back again: the main menu, in Swahili.
    expect((await run(number, []))[0]).toMatch(
      /^CON Tusafishe TS\w+\n1\. Salio\n2\. Nunua maji\n3\. Badili PIN\n4\. English$/,
    );
  });

  it('re-prompts with a clear message on invalid input at every registration step', async () => {
    const number = phone();
    const s = session(number);
    await s.start();
    expect(await s.send('9')).toMatch(/^CON Invalid choice\.\nWelcome to Tusafishe/);
    expect(await s.send('1')).toBe('CON Enter your full name:');
    expect(await s.send('J')).toBe('CON Name must be 2-40 letters.\nEnter your full name:');
    expect(await s.send('R2D2')).toBe('CON Name must be 2-40 letters.\nEnter your full name:');
    expect(await s.send('Jane')).toMatch(/^CON Choose a 4-digit PIN/);
    expect(await s.send('12')).toMatch(/^CON PIN must be 4 digits, not all the same\.\nChoose/);
    expect(await s.send('1111')).toMatch(/^CON PIN must be 4 digits/);
    expect(await s.send('5831')).toBe('CON Enter the PIN again:');
    expect(await s.send('5832')).toMatch(/^CON PINs did not match\.\nChoose a 4-digit PIN/);
    expect(await s.send('5833')).toBe('CON Enter the PIN again:');
    expect(await s.send('5833')).toMatch(/^END Welcome Jane!/);
    expect(await verifySecret('5833', (await findCustomerByPhone(cloud.db, number))!.pin_hash)).toBe(true);
    expect(await findCustomerByPhone(cloud.db, number)).toBeDefined();
  });

  it('sends a registered number to the main menu, shows the balance and changes the PIN', async () => {
    const number = phone();
    await run(number, ['1', 'Amina Otieno', '2468', '2468']);
    const menu = (await run(number, []))[0]!;
    expect(menu).toMatch(/^CON Tusafishe TS\w{7}\n1\. Balance\n2\. Buy water\n3\. Change PIN\n4\. Kiswahili$/);
    expect((await run(number, ['1']))[1]).toMatch(/^END Balance: 0 L\. Account TS\w{7}\.$/);
    expect((await run(number, ['7']))[1]).toMatch(/^CON Invalid choice\.\nTusafishe/);

    const s = session(number);
    await s.start();
    expect(await s.send('3')).toBe('CON Enter your current PIN:');
    expect(await s.send('1357')).toBe('CON Wrong PIN.\nEnter your current PIN:');
    expect(await s.send('2468')).toBe('CON Enter a new 4-digit PIN:');
    expect(await s.send('99')).toMatch(/^CON PIN must be 4 digits/);
    expect(await s.send('8642')).toBe('CON Enter the PIN again:');
    expect(await s.send('8641')).toMatch(/^CON PINs did not match\.\nEnter a new 4-digit PIN:/);
    expect(await s.send('8642')).toBe('CON Enter the PIN again:');
    expect(await s.send('8642')).toBe('END Your PIN is set. Use it at any Tusafishe kiosk.');
    expect(await verifySecret('8642', (await findCustomerByPhone(cloud.db, number))!.pin_hash)).toBe(true);

    expect((await run(number, ['3', '1111', '2222', '3333'])).at(-1)).toBe('END Too many wrong PINs. Try again later.');
  });

  it('validates the amount and confirmation when buying water', async () => {
    const number = phone();
    await run(number, ['1', 'Peter Okello', '1357', '1357']);
    const s = session(number);
    await s.start();
    expect(await s.send('2')).toBe('CON Amount in UGX (100-500000):');
    expect(await s.send('abc')).toBe('CON Enter a whole number from 100 to 500000.\nAmount in UGX (100-500000):');
    expect(await s.send('50')).toMatch(/^CON Enter a whole number/);
    expect(await s.send('1000')).toBe('CON Pay UGX 1000 for 400 L of water?\n1. Confirm\n2. Cancel');
    expect(await s.send('3')).toMatch(/^CON Invalid choice\.\nPay UGX 1000/);
    expect(await s.send('2')).toBe('END Cancelled. Nothing was charged.');
    expect(cloud.simulators!.mtn.payments.size).toBe(0);
  });

  it('answers HTTP 200 END to a malformed request, and refuses a caller without the webhook secret', async () => {
    const malformed = await postForm(`${url()}/ussd?token=at-secret`, { sessionId: 'x', text: '1' });
    expect(malformed.status).toBe(200);
    expect(malformed.body).toMatch(/^END /);
    const forged = await postForm(`${url()}/ussd`, {
      sessionId: 'x',
      serviceCode: '*123#',
      phoneNumber: phone(),
      text: '',
    });
    expect(forged.status).toBe(401);
    const viaHeader = await fetch(`${url()}/ussd`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-webhook-secret': 'at-secret' },
      body: new URLSearchParams({ sessionId: 'y', serviceCode: '*123#', phoneNumber: phone(), text: '' }).toString(),
    });
    expect(await viaHeader.text()).toMatch(/^CON Welcome/);
  });

  it('never writes a PIN or the webhook secret to the logs', async () => {
    const lines: string[] = [];
    const logger = pino(loggerOptions('debug'), { write: (line: string) => void lines.push(line) });
    const logged = await startCloud({ ...backend.fresh(), port: 0, logger, webhookSecret: 'hook-secret-in-url' });
    try {
      const number = phone();
      const screens = await dial(
        logged.url,
        number,
        ['1', 'Lucy Adong', '9173', '9173'],
        '64110',
        '?token=hook-secret-in-url',
      );
      expect(screens.at(-1)).toMatch(/^END Welcome Lucy Adong!/);
      await dial(logged.url, number, ['3', '9173', '6284', '6284'], '64110', '?token=hook-secret-in-url');
      await dial(logged.url, number, ['3', '1111'], '64110', '?token=wrong-secret').catch(() => undefined);
    } finally {
      await logged.close();
    }
    const text = lines.join('');
    expect(text).toContain('/ussd');
    for (const secret of ['9173', '6284', 'hook-secret-in-url', 'wrong-secret'])
      expect(text).not.toMatch(secretToken(secret));
  });

  it('limits requests per phone', async () => {
    const limited = await startCloud({
      ...backend.fresh(),
      port: 0,
      logger: false,
      rateLimits: { requestsPerPhonePerMinute: 3, phoneWindowMs: 3_600_000 },
    });
    try {
      const number = phone();
      const screens = await dial(limited.url, number, ['1', '9', '9', '9']);
      expect(screens.slice(0, 3).every((s) => s.startsWith('CON'))).toBe(true);
      expect(screens[3]).toMatch(/^END Service busy/);
      expect((await dial(limited.url, phone(), []))[0]).toMatch(/^CON Welcome/);
    } finally {
      await limited.close();
    }
  });
});
