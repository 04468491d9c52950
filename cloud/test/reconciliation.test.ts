import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TIME_ZONE } from '@tusafishe/protocol';
import type { RunningCloud } from '../src/cloud.js';
import { createCustomer, findCustomer } from '../src/customers/customers.js';
import type { Reconciliation } from '../src/payments/reconciliation.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { signInAs, type ConsoleSession } from './console-session.js';

let seq = 0;
const phone = (): string => `+25677${String(9_000_000 + (seq += 1)).slice(-7)}`;
/** The day the test's payments are dated: a fixed one, so a run across midnight reconciles them all. */
const DAY = '2026-10-15';

describe.each(backends())('daily reconciliation on $name', (backend) => {
  let cloud: RunningCloud;
  let finance: ConsoleSession;
  beforeAll(async () => {
    cloud = await startTestCloud(backend, { simulators: {} });
    finance = await signInAs(cloud, 'finance', 'finance-amina');
  });
  afterAll(() => stopTestCloud(cloud, backend));
  const reconcile = (body: Record<string, unknown>, query = '') =>
    finance.request('POST', `/payments/reconcile${query}`, body);

  it('finds each kind of mismatch, credits once what the provider took and we did not, and audits it', async () => {
    const mtn = cloud.simulators!.mtn;
    const buyer = async () => createCustomer(cloud.db, { phone: phone(), name: 'Achan Grace', pin: '2580' });
    const pay = async (amountMinor: number) => {
      const customer = await buyer();
      const { paymentId } = await cloud.payments.start(customer, amountMinor);
      return { customer, paymentId };
    };

    // 1. Credited, but MoMo now says it failed (reversed at the provider).
    const reversed = await pay(100);
    await mtn.decide(reversed.paymentId, true);
    mtn.payments.get(reversed.paymentId)!.status = 'FAILED';
    // 2. MoMo collected, the callback was lost and no status check ran yet: still pending with us.
    const lost = await pay(200);
    await mtn.decide(lost.paymentId, true, 'lose');
    // 3. MoMo collected, but we had already given up on it (expired).
    const gaveUp = await pay(300);
    await cloud.db.query("UPDATE payments SET status = 'expired' WHERE payment_id::text = $1", [gaveUp.paymentId]);
    await mtn.decide(gaveUp.paymentId, true, 'lose');
    // 4. MoMo collected another amount than we asked for.
    const otherAmount = await pay(400);
    await mtn.decide(otherAmount.paymentId, true, 'lose');
    mtn.payments.get(otherAmount.paymentId)!.amount = '450';
    // 5. All in order: credited and successful at MoMo.
    const fine = await pay(500);
    await mtn.decide(fine.paymentId, true);

    const ids = [reversed, lost, gaveUp, otherAmount, fine].map((p) => p.paymentId);
    await cloud.db.query(
      `UPDATE payments SET created_at = ($2::date + time '12:00')::timestamp AT TIME ZONE $3 WHERE payment_id::text = ANY($1::text[])`,
      [ids, DAY, DEFAULT_TIME_ZONE],
    );

    const response = await reconcile({ date: DAY, provider: 'mtn' });
    expect(response.status).toBe(200);
    const result = (await response.json()) as Reconciliation;
    expect(result.checked).toBeGreaterThanOrEqual(5);
    const byPayment = new Map(result.mismatches.map((m) => [m.payment_id, m]));
    expect(byPayment.get(reversed.paymentId)).toMatchObject({
      kind: 'credited_not_collected',
      our_status: 'successful',
      provider_status: 'failed',
    });
    expect(byPayment.get(lost.paymentId)).toMatchObject({ kind: 'collected_not_credited', resolution: 'credited' });
    expect(byPayment.get(gaveUp.paymentId)).toMatchObject({
      kind: 'collected_not_credited',
      our_status: 'expired',
      resolution: 'credited',
    });
    expect(byPayment.get(otherAmount.paymentId)).toMatchObject({
      kind: 'amount_differs',
      amount_minor: 400,
      provider_amount_minor: 450,
      resolution: 'none',
    });
    expect(byPayment.has(fine.paymentId)).toBe(false);

    expect((await findCustomer(cloud.db, lost.customer.account_id))!.balance_ml).toBe(80_000);
    expect((await findCustomer(cloud.db, gaveUp.customer.account_id))!.balance_ml).toBe(120_000);
    expect((await findCustomer(cloud.db, otherAmount.customer.account_id))!.balance_ml).toBe(0);
    const audited = await cloud.db.query<{ actor: string; subject: string }>(
      "SELECT actor, subject FROM audit_log WHERE action = 'payment.reconcile.credit' ORDER BY subject",
    );
    expect(audited).toEqual(
      [lost.paymentId, gaveUp.paymentId].sort().map((subject) => ({ actor: 'finance-amina', subject })),
    );

    // Run again (as CSV): the credited ones are in order now, nothing is credited twice.
    const again = await reconcile({ date: DAY, provider: 'mtn' }, '?format=csv');
    expect(again.headers.get('content-type')).toMatch(/^text\/csv/);
    const csv = await again.text();
    const [header, ...lines] = csv.trim().split('\r\n');
    expect(header).toBe(
      'payment_id,provider,account_id,amount_minor,currency,created_at,our_status,provider_status,provider_amount_minor,kind,resolution',
    );
    expect(
      lines.some((l) => l.startsWith(`${reversed.paymentId},mtn,`) && l.includes(',credited_not_collected,')),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith(lost.paymentId))).toBe(false);
    expect((await findCustomer(cloud.db, lost.customer.account_id))!.balance_ml).toBe(80_000);
    const topups = await cloud.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ledger_events WHERE type = 'topup' AND source_id = ANY($1::text[])",
      [[lost.paymentId, gaveUp.paymentId]],
    );
    expect(topups[0]!.n).toBe(2);
  });

  it('refuses a bad date, a caller without a session or an operator without the finance role', async () => {
    expect((await reconcile({ date: '2026-13-45' })).status).toBe(400);
    const anonymous = await fetch(`${cloud.url}/console/api/payments/reconcile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ date: DAY }),
    });
    expect(anonymous.status).toBe(401);
    const field = await signInAs(cloud, 'field');
    expect((await field.request('POST', '/payments/reconcile', { date: DAY })).status).toBe(403);
  });
});
