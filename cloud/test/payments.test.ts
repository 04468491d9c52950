import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../src/cloud.js';
import { findCustomerByPhone } from '../src/customers/customers.js';
import { createKiosk } from '../src/kiosks/kiosks.js';
import { balanceDrift } from '../src/ledger/ledger.js';
import { airtelCallbackHash } from '../src/payments/airtel-money.js';
import type { RunningSimulator, SimulatedPayment } from '../src/payments/simulators/simulated-payments.js';
import { readOutbox } from '../src/sms/sender.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { dial, postForm } from './africas-talking.js';
import { kioskClient } from './kiosk-client.js';

let seq = 0;
const mtnPhone = (): string => `+25677${String(2_000_000 + (seq += 1)).slice(-7)}`;
const airtelPhone = (): string => `+25675${String(3_000_000 + (seq += 1)).slice(-7)}`;
const SECRET = 'hook-secret';
const AIRTEL_HASH_KEY = 'airtel-callback-key';

describe.each(backends())('mobile-money top-ups on $name', (backend) => {
  let cloud: RunningCloud;

  beforeAll(async () => {
    // Tests run the status job by hand (pollPendingPayments) so nothing happens behind their back.
    cloud = await startTestCloud(backend, {
      webhookSecret: SECRET,
      simulators: { airtelCallbackHashKey: AIRTEL_HASH_KEY },
    });
  });
  afterAll(() => stopTestCloud(cloud, backend));

  // Africa's Talking posts to the callback URL configured on its dashboard, secret included.
  const ussd = (phone: string, inputs: string[], networkCode = '64110'): Promise<string[]> =>
    dial(cloud.url, phone, inputs, networkCode, `?token=${SECRET}`);
  async function registered(phone: string, networkCode = '64110'): Promise<string> {
    const screens = await ussd(phone, ['1', 'Mary Nakato', '2580', '2580'], networkCode);
    return /TS\w{7}/.exec(screens.at(-1)!)![0];
  }
  async function buy(phone: string, amount: string, networkCode = '64110'): Promise<string> {
    return (await ussd(phone, ['2', amount, '1'], networkCode)).at(-1)!;
  }
  const balance = async (phone: string): Promise<number> => (await findCustomerByPhone(cloud.db, phone))!.balance_ml;
  const pendingFor = (sim: RunningSimulator, phoneDigits: string): SimulatedPayment =>
    [...sim.payments.values()].find((p) => phoneDigits.endsWith(p.msisdn) && p.status === 'PENDING')!;

  it('credits an MTN MoMo payment once when approved, however often the callback is replayed', async () => {
    const phone = mtnPhone();
    const accountId = await registered(phone);
    expect(await buy(phone, '1000')).toBe(
      'END Approve the MTN MoMo prompt on your phone. We will SMS you when the water credit is added.',
    );
    const mtn = cloud.simulators!.mtn;
    const payment = pendingFor(mtn, phone.slice(1));
    expect(payment).toMatchObject({ amount: '1000', currency: 'UGX', msisdn: phone.slice(1) });
    expect(await balance(phone)).toBe(0);

    await mtn.decide(payment.reference, true);
    expect(await balance(phone)).toBe(400_000); // UGX 1000 at UGX 50 per 20 L
    await mtn.replayCallback(payment.reference);
    await mtn.replayCallback(payment.reference);
    expect(await cloud.payments.pollPending()).toBe(0);
    expect(await balance(phone)).toBe(400_000);
    expect(payment.callbacksSent).toBe(3);

    const topups = await cloud.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ledger_events WHERE account_id = $1 AND type = 'topup'",
      [accountId],
    );
    expect(topups[0]!.n).toBe(1);
    expect((await readOutbox(cloud.db, phone))[0]?.message).toMatch(
      /UGX 1000 received\. 400 L of water added\. Balance: 400 L\./,
    );
    expect((await ussd(phone, ['1'])).at(-1)).toMatch(/^END Balance: 400 L\./);
    expect(await balanceDrift(cloud.db)).toEqual([]);
  });

  it("asks for one payment when Africa's Talking delivers the confirming request twice", async () => {
    const phone = mtnPhone();
    await registered(phone);
    const fields = {
      sessionId: 'ATUid_twice',
      serviceCode: '*123#',
      phoneNumber: phone,
      networkCode: '64110',
      text: '2*700*1',
    };
    const first = await postForm(`${cloud.url}/ussd?token=${SECRET}`, fields);
    const second = await postForm(`${cloud.url}/ussd?token=${SECRET}`, fields);
    expect(first.body).toMatch(/^END Approve the MTN MoMo prompt/);
    expect(second.body).toBe(first.body);
    expect([...cloud.simulators!.mtn.payments.values()].filter((p) => p.msisdn === phone.slice(1))).toHaveLength(1);
  });

  it('credits nothing for forged callbacks: without the secret, or claiming success the provider does not confirm', async () => {
    const phone = mtnPhone();
    await registered(phone);
    await buy(phone, '500');
    const payment = pendingFor(cloud.simulators!.mtn, phone.slice(1));
    const forgedBody = JSON.stringify({
      externalId: payment.reference,
      amount: '500',
      currency: 'UGX',
      status: 'SUCCESSFUL',
      financialTransactionId: '1',
    });
    const noSecret = await fetch(`${cloud.url}/payments/mtn/callback`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: forgedBody,
    });
    expect(noSecret.status).toBe(401);
    const withSecret = await fetch(`${cloud.url}/payments/mtn/callback?token=${SECRET}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: forgedBody,
    });
    expect(withSecret.status).toBe(200);
    expect(await balance(phone)).toBe(0);
    const unknown = await fetch(`${cloud.url}/payments/mtn/callback?token=${SECRET}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ externalId: '0190aaaa-0000-7000-8000-000000000000', status: 'SUCCESSFUL' }),
    });
    expect(unknown.status).toBe(200);
    expect(await balance(phone)).toBe(0);
  });

  it('credits a payment whose callback never comes through the status job', async () => {
    const phone = mtnPhone();
    await registered(phone);
    await buy(phone, '250');
    const payment = pendingFor(cloud.simulators!.mtn, phone.slice(1));
    await cloud.simulators!.mtn.decide(payment.reference, true, 'lose');
    expect(await balance(phone)).toBe(0);
    expect(await cloud.payments.pollPending()).toBeGreaterThanOrEqual(1);
    expect(await balance(phone)).toBe(100_000);
    await cloud.payments.pollPending();
    await cloud.simulators!.mtn.replayCallback(payment.reference);
    expect(await balance(phone)).toBe(100_000);
  });

  it('credits nothing for a declined payment', async () => {
    const phone = mtnPhone();
    await registered(phone);
    await buy(phone, '300');
    const payment = pendingFor(cloud.simulators!.mtn, phone.slice(1));
    await cloud.simulators!.mtn.decide(payment.reference, false);
    await cloud.payments.pollPending();
    expect(await balance(phone)).toBe(0);
    const rows = await cloud.db.query<{ status: string }>('SELECT status FROM payments WHERE payment_id::text = $1', [
      payment.reference,
    ]);
    expect(rows[0]?.status).toBe('failed');
  });

  it('collects through Airtel Money for an Airtel number, once, and ignores callbacks with a bad hash', async () => {
    const phone = airtelPhone();
    await registered(phone, '64101');
    expect(await buy(phone, '2000', '64101')).toMatch(/^END Approve the Airtel Money prompt/);
    const airtel = cloud.simulators!.airtel;
    const payment = pendingFor(airtel, phone);
    expect(payment.msisdn).toBe(phone.slice(4)); // national number, no country code
    // Approved on the phone, but the callback that reaches us is forged with a wrong hash.
    await airtel.decide(payment.reference, true, 'lose');
    const transaction = { id: payment.reference, message: 'Paid', status_code: 'TS', airtel_money_id: 'MP1' };
    const forged = await fetch(`${cloud.url}/payments/airtel/callback?token=${SECRET}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transaction, hash: airtelCallbackHash(JSON.stringify(transaction), 'not-the-key') }),
    });
    expect(forged.status).toBe(401);
    expect(await balance(phone)).toBe(0);
    await airtel.replayCallback(payment.reference); // the genuine, signed callback
    expect(await balance(phone)).toBe(800_000);
    await airtel.replayCallback(payment.reference);
    expect(await cloud.payments.pollPending()).toBe(0);
    expect(await balance(phone)).toBe(800_000);
  });

  it('shows the credited balance to gateways pulling customer changes', async () => {
    const kiosk = await createKiosk(cloud.db, { kioskId: `K-${backend.name}` });
    const client = kioskClient(cloud.url, kiosk);
    const { body: head } = await client.pull({ limit: 5000 });
    const phone = mtnPhone();
    const accountId = await registered(phone);
    await buy(phone, '100');
    const payment = pendingFor(cloud.simulators!.mtn, phone.slice(1));
    await cloud.simulators!.mtn.decide(payment.reference, true);
    const { body } = await client.pull({ cursor: head.cursor });
    expect(body.customers.filter((c) => c.account_id === accountId).at(-1)?.balance_ml).toBe(40_000);
  });
});
