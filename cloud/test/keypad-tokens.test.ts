import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, type LedgerEvent } from '@tusafishe/protocol';
import { openKeypadToken, tokenEventId } from '@tusafishe/protocol/keypad-token';
import type { RunningCloud } from '../src/cloud.js';
import { findCustomerByPhone } from '../src/customers/customers.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { balanceDrift } from '../src/ledger/ledger.js';
import { loggerOptions } from '../src/logger.js';
import { readOutbox } from '../src/sms/sender.js';
import { dial } from './africas-talking.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { signInAs, type ConsoleSession } from './console-session.js';
import { kioskClient } from './kiosk-client.js';

let seq = 0;
const mtnPhone = (): string => `+25677${String(4_000_000 + (seq += 1)).slice(-7)}`;
const SECRET = 'hook-secret';
const TOKEN_LINE = /If the kiosk is offline, type A, your number, # then (\d{5} \d{5} \d{5}) # at the dispenser\./;

// Issue 15: every confirmed top-up gets a keypad token a kiosk can verify offline.
describe.each(backends())('keypad tokens in the cloud, on $name', (backend) => {
  let cloud: RunningCloud;
  let kiosk: KioskCredential;
  let support: ConsoleSession;
  let admin: ConsoleSession;

  beforeAll(async () => {
    cloud = await startTestCloud(backend, { webhookSecret: SECRET, simulators: {} });
    kiosk = await createKiosk(cloud.db, { kioskId: 'KIOSK-T' });
    [support, admin] = await Promise.all([signInAs(cloud, 'customer_service'), signInAs(cloud, 'admin')]);
  });
  afterAll(() => stopTestCloud(cloud, backend));

  const ussd = (phone: string, inputs: string[]): Promise<string[]> =>
    dial(cloud.url, phone, inputs, '64110', `?token=${SECRET}`);

  /** A registered customer who paid UGX `amount` by MTN MoMo: account, and the SMS's token digits. */
  async function paid(phone: string, amount: string): Promise<{ accountId: string; token: string }> {
    if (!(await findCustomerByPhone(cloud.db, phone))) await ussd(phone, ['1', 'Token Test', '2580', '2580']);
    await ussd(phone, ['2', amount, '1']);
    const mtn = cloud.simulators!.mtn;
    const payment = [...mtn.payments.values()].find((p) => phone.endsWith(p.msisdn) && p.status === 'PENDING')!;
    await mtn.decide(payment.reference, true);
    const sms = (await readOutbox(cloud.db, phone)).map((m) => m.message).find((m) => TOKEN_LINE.test(m))!;
    const customer = (await findCustomerByPhone(cloud.db, phone))!;
    const tokens = (await readOutbox(cloud.db, phone)).flatMap((m) => TOKEN_LINE.exec(m.message)?.[1] ?? []);
    expect(sms).toBeDefined();
    return { accountId: customer.account_id, token: tokens.at(-1)!.replaceAll(' ', '') };
  }

  const redemption = (accountId: string, counter: number, creditMl: number): LedgerEvent => ({
    event_id: tokenEventId(accountId, counter),
    type: 'topup',
    account_id: accountId,
    amount_ml: creditMl,
    kiosk_id: kiosk.kioskId,
    dispenser_id: 'D1',
    occurred_at: Date.now(),
    details: { via: 'keypad_token', counter },
  });

  it('issues a token with the credit SMS, under the top-up event id, and replicates the key to kiosks', async () => {
    const phone = mtnPhone();
    const { accountId, token } = await paid(phone, '1000');
    const topups = await cloud.db.query<{ event_id: string }>(
      "SELECT event_id::text AS event_id FROM ledger_events WHERE account_id = $1 AND type = 'topup'",
      [accountId],
    );
    expect(topups.map((t) => t.event_id)).toEqual([tokenEventId(accountId, 1)]);

    const { body } = await kioskClient(cloud.url, kiosk).pull({ limit: 5000 });
    const record = body.customers.find((c) => c.account_id === accountId)!;
    expect(record).toMatchObject({ token_counter: 1, tokens_void: [], balance_ml: 400_000 });
    expect(openKeypadToken(record.token_key!, token, 0)).toEqual({ counter: 1, credit_ml: 400_000 });

    // USSD balance shows it again while no kiosk has redeemed it.
    const screen = (await ussd(phone, ['1'])).at(-1)!;
    expect(screen).toMatch(/^END Balance: 400 L\. Account TS\w+\.\n/);
    expect(TOKEN_LINE.exec(screen)?.[1]?.replaceAll(' ', '')).toBe(token);
  });

  it('counts a kiosk’s offline redemption once, and records where it was redeemed', async () => {
    const phone = mtnPhone();
    const { accountId } = await paid(phone, '500');
    const client = kioskClient(cloud.url, kiosk);
    const event = redemption(accountId, 1, 200_000);
    for (let push = 0; push < 2; push += 1) {
      const { body } = await client.push([event]);
      expect(body).toMatchObject({ acked: [event.event_id], rejected: [] });
      expect(body.balances).toEqual([expect.objectContaining({ account_id: accountId, balance_ml: 200_000 })]);
    }
    expect((await findCustomerByPhone(cloud.db, phone))!.balance_ml).toBe(200_000);
    const tokens = await support.json<{ tokens: unknown[] }>('GET', `/customers/${accountId}/tokens`);
    expect(tokens.tokens).toEqual([
      expect.objectContaining({ counter: 1, credit_ml: 200_000, redeemed_kiosks: ['KIOSK-T'], voided_at: null }),
    ]);
    // Redeemed: the balance screen no longer offers it.
    expect((await ussd(phone, ['1'])).at(-1)).not.toMatch(TOKEN_LINE);
    expect(await balanceDrift(cloud.db)).toEqual([]);
  });

  it('refuses credit a kiosk makes up: an id it never issued, another amount, another customer', async () => {
    const { accountId } = await paid(mtnPhone(), '100');
    const other = (await paid(mtnPhone(), '100')).accountId;
    const forged = [
      { ...redemption(accountId, 1, 40_000), event_id: newId() },
      redemption(accountId, 1, 4_000_000),
      redemption(accountId, 2, 40_000),
      { ...redemption(other, 1, 40_000), account_id: accountId },
    ];
    const { body } = await kioskClient(cloud.url, kiosk).push(forged);
    expect(body.acked).toEqual([]);
    expect(body.rejected.map((r) => r.code)).toEqual(Array(4).fill('TOKEN_NOT_ISSUED'));
    const balances = await cloud.db.query<{ balance_ml: string | number }>(
      'SELECT balance_ml FROM customers WHERE account_id = $1',
      [accountId],
    );
    expect(Number(balances[0]!.balance_ml)).toBe(40_000);
  });

  it('lets operators void a token (kiosks learn it from the record) and rotate a key', async () => {
    const phone = mtnPhone();
    const { accountId } = await paid(phone, '100');
    await paid(phone, '200');
    const client = kioskClient(cloud.url, kiosk);
    const { body: head } = await client.pull({ limit: 5000 });
    const before = head.customers.find((c) => c.account_id === accountId)!;
    expect(before.token_counter).toBe(2);

    const body = { reason: 'sent to the wrong phone' };
    const voided = await support.json('POST', `/customers/${accountId}/tokens/2/void`, body);
    expect(voided).toEqual({ account_id: accountId, counter: 2, voided: true });
    expect((await support.request('POST', `/customers/${accountId}/tokens/2/void`, body)).status).toBe(404);
    // Rotating the key is the admin's.
    expect((await support.request('POST', `/customers/${accountId}/token-key/rotate`, body)).status).toBe(403);
    expect((await admin.request('POST', `/customers/${accountId}/token-key/rotate`, body)).status).toBe(200);

    const { body: page } = await client.pull({ cursor: head.cursor });
    const after = page.customers.filter((c) => c.account_id === accountId).at(-1)!;
    expect(after).toMatchObject({ tokens_void: [2], token_counter: 2, balance_ml: 120_000 });
    expect(after.token_key).not.toBe(before.token_key);
    // The void token is not offered again; the older unused one is, under the new key.
    const screen = (await ussd(phone, ['1'])).at(-1)!;
    const shown = TOKEN_LINE.exec(screen)![1]!.replaceAll(' ', '');
    expect(openKeypadToken(after.token_key!, shown, 2)).toEqual({ counter: 1, credit_ml: 40_000 });
    // Operators never see the key.
    const unlock = await support.request('POST', `/customers/${accountId}/unlock`, body);
    expect(unlock.status).toBe(200);
    expect(await unlock.text()).not.toContain('token_key');
  });

  it('never logs a token key', () => {
    let written = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        written += String(chunk);
        done();
      },
    });
    const key = 'k'.repeat(43);
    const log = pino(loggerOptions('info'), sink);
    log.info({ token_key: key, customer: { token_key: key }, body: { customers: [{ token_key: key }] } }, 'x');
    log.info({ customers: [{ token_key: key }] }, 'y');
    expect(written).toContain('[redacted]');
    expect(written).not.toContain(key);
  });
});
