import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '@tusafishe/protocol';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { findCustomerByPhone, type Customer } from '../src/customers/customers.js';
import { register } from '../src/customers/registration.js';
import { balanceDrift } from '../src/ledger/ledger.js';
import { airtelCallbackHash } from '../src/payments/airtel-money.js';
import { MTN_SIMULATOR_CREDENTIALS } from '../src/payments/simulators/mtn-momo-simulator.js';
import type { RunningSimulator, SimulatedPayment } from '../src/payments/simulators/simulated-payments.js';
import { readOutbox } from '../src/sms/sender.js';
import { backends } from './backends.js';
import { dial } from './africas-talking.js';

let seq = 0;
const mtnPhone = (): string => `+25677${String(5_000_000 + (seq += 1)).slice(-7)}`;
const airtelPhone = (): string => `+25675${String(6_000_000 + (seq += 1)).slice(-7)}`;
const SECRET = 'lifecycle-hook-secret';
const AIRTEL_HASH_KEY = 'airtel-lifecycle-key';

describe.each(backends())('payment lifecycle on $name', (backend) => {
  let cloud: RunningCloud;
  const options = backend.fresh();

  beforeAll(async () => {
    cloud = await startCloud({
      ...options,
      port: 0,
      logger: false,
      webhookSecret: SECRET,
      simulators: { airtelCallbackHashKey: AIRTEL_HASH_KEY },
      providers: {
        statusPollIntervalMs: 0,
        timeoutMs: 3_000,
        timing: { checkBackoffMs: 1, maxCheckIntervalMs: 1, notFoundAttempts: 3, notFoundWindowMs: 300 },
      },
    });
  });
  afterAll(async () => {
    await cloud?.close();
    await backend.cleanup();
  });

  const ussd = (phone: string, inputs: string[], networkCode = '64110'): Promise<string[]> =>
    dial(cloud.url, phone, inputs, networkCode, `?token=${SECRET}`);
  async function customer(phone: string): Promise<Customer> {
    await register(cloud.db, { phone, name: 'Ruth Namata', pin: '2580', language: 'en' });
    return (await findCustomerByPhone(cloud.db, phone))!;
  }
  const balance = async (phone: string): Promise<number> => (await findCustomerByPhone(cloud.db, phone))!.balance_ml;
  const statusOf = async (paymentId: string): Promise<string> =>
    (
      await cloud.db.query<{ status: string }>('SELECT status FROM payments WHERE payment_id::text = $1', [paymentId])
    )[0]!.status;
  const topups = async (paymentId: string): Promise<number> =>
    (
      await cloud.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM ledger_events WHERE type = 'topup' AND source_id = $1",
        [paymentId],
      )
    )[0]!.n;
  const simulated = (sim: RunningSimulator, digits: string): SimulatedPayment =>
    [...sim.payments.values()].find((p) => digits.endsWith(p.msisdn))!;

  it('credits exactly once a payment whose request timed out after MTN accepted it', async () => {
    const phone = mtnPhone();
    await customer(phone);
    const mtn = cloud.simulators!.mtn;
    mtn.faults.hangAfterAccept = true;
    try {
      // The customer is told to approve: the request may well have reached MoMo.
      expect((await ussd(phone, ['2', '1000', '1'])).at(-1)).toMatch(/^END Approve the MTN MoMo prompt/);
    } finally {
      mtn.faults.hangAfterAccept = false;
    }
    const payment = simulated(mtn, phone.slice(1));
    expect(await statusOf(payment.reference)).toBe('pending');
    await mtn.decide(payment.reference, true);
    expect(await balance(phone)).toBe(400_000);
    await mtn.replayCallback(payment.reference);
    await cloud.payments.pollPending();
    expect(await balance(phone)).toBe(400_000);
    expect(await topups(payment.reference)).toBe(1);
  });

  it('fails a payment MoMo never heard of only after several "not found" answers, and tells the customer', async () => {
    const phone = mtnPhone();
    const who = await customer(phone);
    const mtn = cloud.simulators!.mtn;
    mtn.faults.failRequests = true; // 500, nothing recorded: ambiguous, so the payment stays pending
    const { paymentId } = await cloud.payments.start(who, 700);
    mtn.faults.failRequests = false;
    expect(await statusOf(paymentId)).toBe('pending');
    await cloud.payments.pollPending();
    expect(await statusOf(paymentId)).toBe('pending'); // one "not found" is not enough
    await vi.waitFor(
      async () => {
        await cloud.payments.pollPending();
        expect(await statusOf(paymentId)).toBe('failed');
      },
      { timeout: 60_000, interval: 50 },
    );
    expect(mtn.statusQueries.get(paymentId)).toBeGreaterThanOrEqual(3);
    expect((await readOutbox(cloud.db, phone)).map((m) => m.message)).toContain(
      'Tusafishe: Your payment of UGX 700 did not go through. No water credit was added. You can buy again.',
    );
    expect(await balance(phone)).toBe(0);
  });

  it('checks 50 payments in one round although one of them throws, and reaches new payments behind old ones', async () => {
    const phone = mtnPhone();
    const who = await customer(phone);
    const mtn = cloud.simulators!.mtn;
    const started: string[] = [];
    for (let i = 0; i < 51; i += 1) started.push((await cloud.payments.start(who, 100)).paymentId);
    for (const id of started) await mtn.decide(id, true, 'lose');
    const [bad] = started;
    const settle = cloud.payments.settle.bind(cloud.payments);
    const spy = vi
      .spyOn(cloud.payments, 'settle')
      .mockImplementation((id, hint) => (id === bad ? Promise.reject(new Error('settle blew up')) : settle(id, hint)));
    try {
      await cloud.payments.pollPending();
    } finally {
      spy.mockRestore();
    }
    // In that one round every other payment was asked about (a slow answer is simply asked again).
    for (const id of started.slice(1)) expect(mtn.statusQueries.get(id)).toBeGreaterThanOrEqual(1);
    expect(await statusOf(bad!)).toBe('pending');
    await vi.waitFor(
      async () => {
        await cloud.payments.pollPending();
        expect(await balance(phone)).toBe(51 * 40_000);
      },
      { timeout: 60_000, interval: 50 },
    );

    // Fairness: 12 payments nobody answers are re-checked after a newer one, not before it forever.
    const waiting: string[] = [];
    for (let i = 0; i < 12; i += 1) waiting.push((await cloud.payments.start(who, 100)).paymentId);
    const { paymentId: fresh } = await cloud.payments.start(who, 200);
    await mtn.decide(fresh, true, 'lose');
    await cloud.payments.pollPending(10);
    await vi.waitFor(
      async () => {
        await cloud.payments.pollPending(10);
        expect(await statusOf(fresh)).toBe('successful');
      },
      { timeout: 60_000 },
    );
    for (const id of waiting) await mtn.decide(id, false, 'lose');
    expect(await balanceDrift(cloud.db)).toEqual([]);
  });

  it.runIf(backend.name === 'postgres')(
    'credits each payment once with two cloud instances polling the same pending payments',
    async () => {
      const mtn = cloud.simulators!.mtn;
      const second = await startCloud({
        ...options,
        port: 0,
        logger: false,
        webhookSecret: SECRET,
        providers: {
          mtn: { baseUrl: mtn.url, targetEnvironment: 'mtnuganda', currency: 'UGX', ...MTN_SIMULATOR_CREDENTIALS },
          statusPollIntervalMs: 0,
        },
      });
      try {
        const phone = mtnPhone();
        const who = await customer(phone);
        const ids: string[] = [];
        for (let i = 0; i < 30; i += 1) ids.push((await cloud.payments.start(who, 100)).paymentId);
        for (const id of ids) await mtn.decide(id, true, 'lose');
        const credited = await Promise.all([
          cloud.payments.pollPending(),
          second.payments.pollPending(),
          second.payments.pollPending(),
          cloud.payments.pollPending(),
        ]);
        let total = credited.reduce((a, b) => a + b, 0);
        // A check that timed out on a loaded machine is simply made again, by either instance.
        await vi.waitFor(
          async () => {
            total += (await cloud.payments.pollPending()) + (await second.payments.pollPending());
            expect(total).toBe(30);
          },
          { timeout: 60_000 },
        );
        for (const id of ids) expect(await topups(id)).toBe(1);
        expect(await balance(phone)).toBe(30 * 40_000);
        const sms = await cloud.db.query<{ attempts: number; status: string }>(
          'SELECT attempts, status FROM sms_outbox WHERE phone = $1',
          [phone],
        );
        await vi.waitFor(async () => {
          const rows = await cloud.db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM sms_outbox WHERE phone = $1 AND status = 'sent' AND attempts = 1",
            [phone],
          );
          expect(rows[0]!.n).toBe(sms.length);
        }, 20_000);
      } finally {
        await second.close();
      }
    },
  );

  it('credits nothing when Airtel answers HTTP 200 with success: false', async () => {
    const phone = airtelPhone();
    await customer(phone);
    const airtel = cloud.simulators!.airtel;
    airtel.refusedMsisdns.add(phone.slice(4));
    expect((await ussd(phone, ['2', '1000', '1'], '64101')).at(-1)).toBe(
      'END Payment could not be started. Please try again later.',
    );
    const rows = await cloud.db.query<{ status: string }>('SELECT status FROM payments WHERE phone = $1', [phone]);
    expect(rows.map((r) => r.status)).toEqual(['failed']);
    expect(await balance(phone)).toBe(0);
  });

  it('checks the Airtel callback hash over the bytes sent, not over re-serialised JSON', async () => {
    const phone = airtelPhone();
    const who = await customer(phone);
    const airtel = cloud.simulators!.airtel;
    const { paymentId } = await cloud.payments.start(who, 500);
    await airtel.decide(paymentId, true, 'lose');
    // Spacing and key order as some sender might produce them: JSON.stringify would not reproduce these bytes.
    const bytes = `{ "status_code":"TS", "id":"${paymentId}",  "airtel_money_id":"${airtel.payments.get(paymentId)!.transactionId}" }`;
    const post = (body: string) =>
      fetch(`${cloud.url}/payments/airtel/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const reserialised = airtelCallbackHash(JSON.stringify(JSON.parse(bytes)), AIRTEL_HASH_KEY);
    expect((await post(`{"transaction":${bytes},"hash":"${reserialised}"}`)).status).toBe(401);
    expect(await balance(phone)).toBe(0);
    const signed = airtelCallbackHash(bytes, AIRTEL_HASH_KEY);
    expect((await post(`{"transaction":${bytes},"hash":"${signed}"}`)).status).toBe(200);
    expect(await balance(phone)).toBe(200_000);
  });

  it('has a MoMo simulator that refuses what MoMo refuses', async () => {
    const base = cloud.simulators!.mtn.url;
    const { apiUser, apiKey, subscriptionKey } = MTN_SIMULATOR_CREDENTIALS;
    const tokenResponse = await fetch(`${base}/collection/token/`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${apiUser}:${apiKey}`).toString('base64')}`,
        'ocp-apim-subscription-key': subscriptionKey,
      },
    });
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const requestToPay = (reference: string, currency: string, key = subscriptionKey) =>
      fetch(`${base}/collection/v1_0/requesttopay`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'ocp-apim-subscription-key': key,
          'x-target-environment': 'mtnuganda',
          'x-reference-id': reference,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          amount: '100',
          currency,
          externalId: reference,
          payer: { partyIdType: 'MSISDN', partyId: '256772000000' },
        }),
      });
    expect((await requestToPay(newId(), 'UGX')).status).toBe(400); // a UUID v7
    expect((await requestToPay(randomUUID(), 'EUR')).status).toBe(400); // mtnuganda collects UGX
    expect((await requestToPay(randomUUID(), 'UGX', 'unknown-key')).status).toBe(401);
    const reference = randomUUID();
    expect((await requestToPay(reference, 'UGX')).status).toBe(202);
    expect((await requestToPay(reference, 'UGX')).status).toBe(409);
  });
});
