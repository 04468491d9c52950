import { secretToken } from '@tusafishe/protocol/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAdjustment } from '../src/admin/adjustments.js';
import type { RunningCloud } from '../src/cloud.js';
import { findCustomerByPhone } from '../src/customers/customers.js';
import type { OutboxMessage } from '../src/sms/sender.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { dial, inboundSms } from './africas-talking.js';

let seq = 0;
const phone = (): string => `+25677${String(4_000_000 + (seq += 1)).slice(-7)}`;

describe.each(backends())('SMS on $name', (backend) => {
  let cloud: RunningCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(backend, { simulators: {}, devSmsOutbox: true });
  });
  afterAll(() => stopTestCloud(cloud, backend));

  /** What the customer's phone received, newest first, read the way a developer would. */
  async function inbox(number: string): Promise<string[]> {
    const response = await fetch(`${cloud.url}/dev/sms/outbox?phone=${encodeURIComponent(number)}`);
    return ((await response.json()) as { messages: OutboxMessage[] }).messages.map((m) => m.message);
  }
  async function ask(number: string, text: string): Promise<string> {
    const response = await inboundSms(cloud.url, number, text);
    expect(response.status).toBe(200);
    return (await inbox(number))[0]!;
  }

  it('registers by SMS without a PIN, and the customer sets the PIN by USSD', async () => {
    const number = phone();
    expect(await ask(number, 'register Grace Akello')).toMatch(
      /^Welcome! Your account is TS\w{7}\. Dial \*123# to set your kiosk PIN\.$/,
    );
    expect(await findCustomerByPhone(cloud.db, number)).toMatchObject({
      name: 'Grace Akello',
      status: 'inactive',
      pin_hash: '',
    });
    expect(await ask(number, 'STATUS')).toMatch(/: no PIN yet, balance 0 L\. Dial \*123# to set your PIN\.$/);
    expect(await ask(number, 'REGISTER Grace Akello')).toMatch(/^You are already registered\. Account TS\w{7}\.$/);

    const screens = await dial(cloud.url, number, ['3', '2580', '2580']);
    expect(screens[0]).toMatch(/\n3\. Set PIN\n/);
    expect(screens.at(-1)).toBe('END Your PIN is set. Use it at any Tusafishe kiosk.');
    expect((await findCustomerByPhone(cloud.db, number))?.status).toBe('active');
  });

  it('never accepts or echoes a PIN', async () => {
    const number = phone();
    const reply = await ask(number, 'REGISTER Tom 4821');
    expect(reply).toMatch(/^Never send your PIN by SMS/);
    expect(reply).not.toMatch(secretToken('4821'));
    expect(await findCustomerByPhone(cloud.db, number)).toBeUndefined();
    expect(await ask(number, '4821')).not.toMatch(secretToken('4821'));
  });

  it('answers BALANCE, HELP, Swahili keywords and anything else helpfully', async () => {
    const number = phone();
    await ask(number, 'REGISTER Joseph Ouma');
    const customer = (await findCustomerByPhone(cloud.db, number))!;
    await recordAdjustment(cloud.db, {
      accountId: customer.account_id,
      amountMl: 12_500,
      reason: 'test',
      operator: 'test',
    });
    expect(await ask(number, 'balance')).toBe(`Balance: 12.5 L. Account ${customer.account_id}.`);
    expect(await ask(number, 'Help')).toMatch(/^Tusafishe: REGISTER <name>, BALANCE, STATUS, BUY <amount>, HELP\./);
    expect(await ask(number, 'msaada')).toMatch(/^Tusafishe: SAJILI <jina>, SALIO, HALI, NUNUA <kiasi>, MSAADA\./);
    const confused = await ask(number, 'what is this?');
    expect(confused).toMatch(/^Sorry, we did not understand\. Tusafishe: REGISTER/);
    expect(confused).not.toContain('what is this');
    expect(await ask(phone(), 'BALANCE')).toMatch(/^You are not registered\. Send REGISTER <your name>/);
  });

  it('starts a purchase with BUY and credits it once the developer approves it on the simulator page', async () => {
    const number = phone();
    await ask(number, 'REGISTER Esther Nambi');
    expect(await ask(number, 'BUY 10')).toBe('Send BUY <amount>, from 100 to 500000 UGX.');
    expect(await ask(number, 'BUY 500')).toBe('Approve the MTN MoMo prompt for UGX 500 on your phone.');
    const mtn = cloud.simulators!.mtn;
    const list = (await (await fetch(`${mtn.url}/simulator/payments`)).json()) as {
      reference: string;
      msisdn: string;
      status: string;
    }[];
    const pending = list.find((p) => p.msisdn === number.slice(1) && p.status === 'PENDING')!;
    expect(await (await fetch(`${mtn.url}/simulator`)).text()).toContain(pending.reference);
    const approved = await fetch(`${mtn.url}/simulator/payments/${pending.reference}/approve`, { method: 'POST' });
    expect(((await approved.json()) as { status: string }).status).toBe('SUCCESSFUL');
    expect((await findCustomerByPhone(cloud.db, number))?.balance_ml).toBe(200_000);
    expect((await inbox(number))[0]).toMatch(/UGX 500 received\. 200 L of water added\./);
  });

  it('processes a message delivered twice once', async () => {
    const number = phone();
    const first = await inboundSms(cloud.url, number, 'REGISTER Paul Kato', 'ATXid_dup_1');
    const again = await inboundSms(cloud.url, number, 'REGISTER Paul Kato', 'ATXid_dup_1');
    expect(JSON.parse(first.body)).toEqual({ handled: true });
    expect(JSON.parse(again.body)).toEqual({ handled: false, duplicate: true });
    expect(await inbox(number)).toHaveLength(1);
  });

  it('rejects a malformed inbound message with a clear error and no reply', async () => {
    const response = await fetch(`${cloud.url}/sms/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ text: 'BALANCE' }).toString(),
    });
    expect(response.status).toBe(400);
  });
});
