import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../src/cloud.js';
import { findCustomerByPhone } from '../src/customers/customers.js';
import { callbackToken } from '../src/http/webhook-secret.js';
import { createKiosk } from '../src/kiosks/kiosks.js';
import { balanceDrift } from '../src/ledger/ledger.js';
import { darajaTimestamp } from '../src/payments/mpesa.js';
import { MPESA_SIMULATOR_CREDENTIALS } from '../src/payments/simulators/mpesa-simulator.js';
import type { SimulatedPayment } from '../src/payments/simulators/simulated-payments.js';
import { readOutbox } from '../src/sms/sender.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { dial } from './africas-talking.js';
import { kioskClient } from './kiosk-client.js';

let seq = 0;
const safaricomPhone = (): string => `+25471${String(7_000_000 + (seq += 1)).slice(-7)}`;
const SECRET = 'mpesa-test-hook-secret';
const SAFARICOM = '63902';

describe.each(backends())('M-Pesa on $name', (backend) => {
  let cloud: RunningCloud;

  beforeAll(async () => {
    cloud = await startTestCloud(backend, {
      webhookSecret: SECRET,
      simulators: {},
    });
  });
  afterAll(() => stopTestCloud(cloud, backend));

  const ussd = (phone: string, inputs: string[], networkCode = SAFARICOM): Promise<string[]> =>
    dial(cloud.url, phone, inputs, networkCode, `?token=${SECRET}`);
  async function registered(phone: string): Promise<string> {
    const screens = await ussd(phone, ['1', 'Wanjiru Kamau', '2580', '2580']);
    return /TS\w{7}/.exec(screens.at(-1)!)![0];
  }
  const balance = async (phone: string): Promise<number> => (await findCustomerByPhone(cloud.db, phone))!.balance_ml;
  const pushFor = (phone: string): SimulatedPayment =>
    [...cloud.simulators!.mpesa.payments.values()].find((p) => p.msisdn === phone.slice(1) && p.status === 'PENDING')!;
  const paymentRow = async (phone: string) =>
    (
      await cloud.db.query<{ payment_id: string; status: string; provider_transaction_id: string | null }>(
        "SELECT payment_id::text, status, provider_transaction_id FROM payments WHERE phone = $1 AND channel = 'request' ORDER BY created_at DESC",
        [phone],
      )
    )[0]!;

  it('registers a Safaricom number by USSD, buys in KES, and the approved STK push reaches the kiosk', async () => {
    const phone = safaricomPhone();
    const accountId = await registered(phone);
    const kiosk = await createKiosk(cloud.db, { kioskId: `KE-${backend.name}` });
    const gateway = kioskClient(cloud.url, kiosk);
    const { body: head } = await gateway.pull({ limit: 5000 });

    const screens = await ussd(phone, ['2', '100']);
    expect(screens.at(-2)).toBe('CON Amount in KES (100-500000):');
    expect(screens.at(-1)).toBe('CON Pay KES 100 for 400 L of water?\n1. Confirm\n2. Cancel');
    expect((await ussd(phone, ['2', '100', '1'])).at(-1)).toBe(
      'END Approve the M-Pesa prompt on your phone. We will SMS you when the water credit is added.',
    );
    const push = pushFor(phone);
    expect(push).toMatchObject({ amount: '100', currency: 'KES' });

    // The gateway is long-polling when the customer approves on the simulator's page, as a person would.
    const started = Date.now();
    const pulled = gateway.pull({ cursor: head.cursor, wait_s: 20 });
    const page = await fetch(`${cloud.simulators!.mpesa.url}/simulator/payments/${push.reference}/approve`, {
      method: 'POST',
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    expect(page.status).toBe(303);
    const { body } = await pulled;
    const elapsedMs = Date.now() - started;
    expect(body.customers.find((c) => c.account_id === accountId)?.balance_ml).toBe(400_000);
    console.info(`M-Pesa approval to the kiosk's pull: ${elapsedMs} ms`);

    const row = await paymentRow(phone);
    expect(row.status).toBe('successful');
    expect(row.provider_transaction_id).toBe(push.transactionId); // the M-Pesa receipt number
    expect((await readOutbox(cloud.db, phone))[0]?.message).toMatch(
      /^Tusafishe: KES 100\.00 received\. 400 L of water added\. Balance: 400 L\.\nIf the kiosk is offline, type A, your number, # then \d{5} \d{5} \d{5} # at the dispenser\.$/,
    );
  });

  it('credits an approved push whose callback was lost through the status job, once however often it is replayed', async () => {
    const phone = safaricomPhone();
    await registered(phone);
    await ussd(phone, ['2', '250', '1']);
    const mpesa = cloud.simulators!.mpesa;
    const push = pushFor(phone);
    await mpesa.decide(push.reference, true, 'lose');
    expect(await balance(phone)).toBe(0);
    expect(await cloud.payments.pollPending()).toBeGreaterThanOrEqual(1);
    expect(await balance(phone)).toBe(1_000_000);
    await mpesa.replayCallback(push.reference);
    await mpesa.replayCallback(push.reference);
    await cloud.payments.pollPending();
    expect(await balance(phone)).toBe(1_000_000);
    expect(push.callbacksSent).toBe(2);
  });

  it('credits nothing for forged callbacks: no token, a token for another payment, or a success Daraja does not confirm', async () => {
    const phone = safaricomPhone();
    await registered(phone);
    await ussd(phone, ['2', '300', '1']);
    const push = pushFor(phone);
    const { payment_id: paymentId } = await paymentRow(phone);
    const forged = JSON.stringify({
      Body: {
        stkCallback: {
          MerchantRequestID: '1-1-1',
          CheckoutRequestID: push.reference,
          ResultCode: 0,
          ResultDesc: 'The service request is processed successfully.',
          CallbackMetadata: {
            Item: [
              { Name: 'Amount', Value: 300 },
              { Name: 'MpesaReceiptNumber', Value: 'FORGED0001' },
            ],
          },
        },
      },
    });
    const post = (query: string) =>
      fetch(`${cloud.url}/payments/daraja/stk/${paymentId}${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: forged,
      });
    expect((await post('')).status).toBe(401);
    expect((await post(`?token=${SECRET}`)).status).toBe(401); // the URL carries a per-payment token, not the secret
    // The genuine per-payment URL, as Daraja was given it: still only a prompt to ask, and Daraja says "processing".
    const url = `${cloud.url}/payments/daraja/stk/${paymentId}?token=${callbackToken(SECRET, paymentId)}`;
    const genuine = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: forged });
    expect(genuine.status).toBe(200);
    expect(await genuine.json()).toEqual({ ResultCode: 0, ResultDesc: 'Accepted' });
    expect(await balance(phone)).toBe(0);
    expect((await paymentRow(phone)).status).toBe('pending');
  });

  it('credits a paybill payment from the M-Pesa menu once, and refuses an unknown account at validation', async () => {
    const phone = safaricomPhone();
    const accountId = await registered(phone);
    const mpesa = cloud.simulators!.mpesa;
    expect(mpesa.c2b?.confirmationUrl).toMatch(/\/payments\/daraja\/c2b\/confirmation\?token=/);

    const refused = await mpesa.payBill(phone.slice(1), 'TS0000000', 200);
    expect(refused).toMatchObject({ completed: false, validation: 'C2B00012 Rejected' });

    const paid = await mpesa.payBill(phone.slice(1), accountId.toLowerCase(), 200);
    expect(paid).toMatchObject({ completed: true, validation: '0 Accepted' });
    expect(await balance(phone)).toBe(800_000);
    await mpesa.replayConfirmation(paid.transId);
    await mpesa.replayConfirmation(paid.transId);
    expect(await balance(phone)).toBe(800_000);
    const rows = await cloud.db.query<{ status: string; provider_transaction_id: string }>(
      "SELECT status, provider_transaction_id FROM payments WHERE account_id = $1 AND channel = 'paybill'",
      [accountId],
    );
    expect(rows).toEqual([{ status: 'successful', provider_transaction_id: paid.transId }]);
    expect(await balanceDrift(cloud.db)).toEqual([]);
  });

  it('offers a second wallet on the confirm screen when the network and the number point to different ones', async () => {
    const phone = `+25677${String(8_000_000 + (seq += 1)).slice(-7)}`; // an MTN number on Airtel's network
    await ussd(phone, ['1', 'Okello Peter', '2580', '2580'], '64101');
    expect((await ussd(phone, ['2', '500'], '64101')).at(-1)).toBe(
      'CON Pay UGX 500 for 200 L of water?\n1. Confirm (Airtel Money)\n2. Cancel\n3. Pay with MTN MoMo',
    );
    expect((await ussd(phone, ['2', '500', '3'], '64101')).at(-1)).toMatch(/^END Approve the MTN MoMo prompt/);
    expect([...cloud.simulators!.mtn.payments.values()].some((p) => p.msisdn === phone.slice(1))).toBe(true);
  });

  it('has a Daraja simulator that refuses a wrong password and a fractional amount', async () => {
    const base = cloud.simulators!.mpesa.url;
    const { consumerKey, consumerSecret, shortcode, passkey } = MPESA_SIMULATOR_CREDENTIALS;
    const tokenAnswer = await fetch(`${base}/oauth/v1/generate?grant_type=client_credentials`, {
      headers: { authorization: `Basic ${Buffer.from(`${consumerKey}:${consumerSecret}`).toString('base64')}` },
    });
    const { access_token: token } = (await tokenAnswer.json()) as { access_token: string };
    const timestamp = darajaTimestamp();
    const push = (password: string, amount: number) =>
      fetch(`${base}/mpesa/stkpush/v1/processrequest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          BusinessShortCode: shortcode,
          Password: password,
          Timestamp: timestamp,
          TransactionType: 'CustomerPayBillOnline',
          Amount: amount,
          PartyA: '254712345678',
          PartyB: shortcode,
          PhoneNumber: '254712345678',
          CallBackURL: 'https://cloud.example/payments/daraja/stk/x',
          AccountReference: 'TS1234567',
          TransactionDesc: 'Water',
        }),
      });
    const good = Buffer.from(`${shortcode}${passkey}${timestamp}`).toString('base64');
    const wrong = await push(Buffer.from(`${shortcode}nope${timestamp}`).toString('base64'), 10);
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ errorMessage: 'Bad Request - Invalid Password' });
    expect((await push(good, 10.5)).status).toBe(400);
    expect((await push(good, 10)).status).toBe(200);
  });
});
