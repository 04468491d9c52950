import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomerLookupResponse, customerPath, type CustomerRecord } from '@tusafishe/protocol';
import { recordAdjustment } from '../src/admin/adjustments.js';
import type { RunningCloud } from '../src/cloud.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { kioskClient } from './kiosk-client.js';
import { creditedCustomer } from './test-customers.js';

describe.each(backends())('a kiosk looking up one customer on $name', (backend) => {
  let cloud: RunningCloud;
  let kiosk: ReturnType<typeof kioskClient>;
  let credential: KioskCredential;

  beforeAll(async () => {
    cloud = await startTestCloud(backend);
    credential = await createKiosk(cloud.db, { kioskId: 'KIOSK-A' });
    kiosk = kioskClient(cloud.url, credential);
  });
  afterAll(() => stopTestCloud(cloud, backend));

  async function lookUp(accountId: string): Promise<{ status: number; body: unknown }> {
    const response = await kiosk.fetch(customerPath(accountId));
    return { status: response.status, body: await response.json() };
  }

  /** The customer's record as a pull from the start publishes it now. */
  async function published(accountId: string): Promise<CustomerRecord | undefined> {
    const { body } = await kiosk.pull({ limit: 5000 });
    return body.customers.find((customer) => customer.account_id === accountId);
  }

  it('answers the current record, as the feed publishes it, after a top-up', async () => {
    // Kept from another kiosk: the gateway, not the cloud, refuses it here (KIOSK_NOT_ALLOWED).
    const customer = await creditedCustomer(
      cloud,
      { phone: '+254700300001', name: 'Amina', pin: '1357', allowedKiosks: ['KIOSK-B'] },
      2_000,
    );
    const before = await lookUp(customer.account_id);
    expect(before.status).toBe(200);
    const first = CustomerLookupResponse.parse(before.body).customer;
    expect(first.balance_ml).toBe(2_000);

    await recordAdjustment(cloud.db, {
      accountId: customer.account_id,
      amountMl: 500,
      reason: 'top-up',
      operator: 'test',
    });
    const after = CustomerLookupResponse.parse((await lookUp(customer.account_id)).body).customer;
    expect(after).toMatchObject({ balance_ml: 2_500, allowed_kiosks: ['KIOSK-B'] });
    expect(after.version).toBeGreaterThan(first.version);
    expect(await published(customer.account_id)).toEqual(after);
  });

  it('answers 404 UNKNOWN_ACCOUNT for an account no customer has', async () => {
    expect(await lookUp('NOSUCH01')).toMatchObject({ status: 404, body: { code: 'UNKNOWN_ACCOUNT' } });
  });

  it('answers 400 for an id that is no account id', async () => {
    for (const id of ['abc1234', 'A1', 'AB CD/12'])
      expect(await lookUp(id)).toMatchObject({ status: 400, body: { code: 'FST_ERR_VALIDATION' } });
  });

  it('answers 401 without a kiosk credential, or with a wrong one', async () => {
    const path = customerPath('NOSUCH01');
    const wrong = kioskClient(cloud.url, { ...credential, secret: 'not-the-secret' });
    for (const response of [await fetch(`${cloud.url}${path}`), await wrong.fetch(path)]) {
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'KIOSK_UNAUTHORISED' });
    }
  });
});
