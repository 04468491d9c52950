import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, startCloud, type RunningCloud } from '@tusafishe/cloud/provisioning';
import { freshPglite, signInAs, TEST_OPERATOR_PASSWORD } from '@tusafishe/cloud/testing';
import { runCommand } from './run-command.js';

/** The day the test's payment is dated: a fixed one, so a run across midnight still finds it. */
const DAY = '2026-10-15';

describe('payments reconcile', () => {
  let cloud: RunningCloud;
  beforeAll(async () => {
    cloud = await startCloud({
      ...freshPglite(),
      port: 0,
      logger: false,
      simulators: {},
      providers: { statusPollIntervalMs: 0 },
    });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('lists the day’s mismatches and credits what the provider took, through the cloud', async () => {
    const customer = await createCustomer(cloud.db, { phone: '+256772555001', name: 'Nakato Sarah', pin: '2580' });
    const { paymentId } = await cloud.payments.start(customer, 1_000);
    await cloud.simulators!.mtn.decide(paymentId, true, 'lose');
    await cloud.db.query(
      `UPDATE payments SET created_at = timestamptz '${DAY} 12:00:00+03' WHERE payment_id::text = $1`,
      [paymentId],
    );
    await signInAs(cloud, 'finance');
    const env = { OPERATOR_PASSWORD: TEST_OPERATOR_PASSWORD, CLOUD_URL: cloud.url, OPERATOR_USERNAME: 'finance' };

    const listed = await runCommand(['payments', 'reconcile', '--date', DAY], { env });
    expect(listed.err).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/: \d+ payments checked, 1 mismatches\n/);
    expect(listed.out).toContain(
      `collected_not_credited   mtn    ${paymentId} ${customer.account_id} UGX 1000 (minor) → credited now`,
    );

    const csv = await runCommand(['payments', 'reconcile', '--date', DAY, '--provider', 'mtn', '--csv'], { env });
    expect(csv.code).toBe(0);
    expect(csv.out.trim()).toBe(
      'payment_id,provider,account_id,amount_minor,currency,created_at,our_status,provider_status,provider_amount_minor,kind,resolution',
    );

    const bad = await runCommand(['payments', 'reconcile', '--date', '29-11-2026'], { env });
    expect(bad.code).toBe(2);
    const refused = await runCommand(['payments', 'reconcile', '--date', DAY], {
      env: { ...env, OPERATOR_PASSWORD: 'not-the-password' },
    });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('the cloud answered 401');
  });
});
