import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { createCustomer } from '../src/customers/customers.js';
import { backends } from './backends.js';
import { kioskClient } from './kiosk-client.js';

const TOKEN = 'operator-token-for-tests';

describe.each(backends())('operator endpoints on $name', (backend) => {
  let cloud: RunningCloud;
  beforeAll(async () => {
    cloud = await startCloud({ ...backend.fresh(), port: 0, logger: false, adminToken: TOKEN });
  });
  afterAll(async () => {
    await cloud?.close();
    await backend.cleanup();
  });
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${cloud.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('provisions a kiosk whose credential then syncs, once, and audits it', async () => {
    const created = await admin('POST', '/admin/kiosks', { kiosk_id: 'KIOSK-ADM', operator: 'alice' });
    expect(created.status).toBe(201);
    const { kiosk_id: kioskId, secret } = (await created.json()) as { kiosk_id: string; secret: string };
    expect((await kioskClient(cloud.url, { kioskId, secret }).pull()).status).toBe(200);
    const again = await admin('POST', '/admin/kiosks', { kiosk_id: 'KIOSK-ADM', operator: 'alice' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('KIOSK_EXISTS');
    const audit = await cloud.db.query<{ actor: string; action: string }>(
      "SELECT actor, action FROM audit_log WHERE subject = 'KIOSK-ADM'",
    );
    expect(audit).toEqual([{ actor: 'alice', action: 'kiosk.create' }]);
  });

  it('changes what gateways enforce (status, kiosks, limits) and gateways pull it', async () => {
    const kiosk = (await (
      await admin('POST', '/admin/kiosks', { kiosk_id: 'KIOSK-PULL', operator: 'alice' })
    ).json()) as { kiosk_id: string; secret: string };
    const gateway = kioskClient(cloud.url, { kioskId: kiosk.kiosk_id, secret: kiosk.secret });
    const customer = await createCustomer(cloud.db, { phone: '+254711000001', name: 'Ruth Wanjiru', pin: '2468' });
    const { body: head } = await gateway.pull({ limit: 5000 });
    const patched = await admin('PATCH', `/admin/customers/${customer.account_id}`, {
      status: 'suspended',
      allowed_kiosks: ['KIOSK-PULL'],
      daily_limit_ml: 40_000,
      operator: 'bob',
    });
    expect(patched.status).toBe(200);
    const { body } = await gateway.pull({ cursor: head.cursor });
    expect(body.customers).toEqual([
      expect.objectContaining({
        account_id: customer.account_id,
        status: 'suspended',
        allowed_kiosks: ['KIOSK-PULL'],
        daily_limit_ml: 40_000,
      }),
    ]);
    expect((await admin('PATCH', '/admin/customers/TSNOBODY0', { status: 'active', operator: 'bob' })).status).toBe(
      404,
    );
    expect(
      (await admin('PATCH', `/admin/customers/${customer.account_id}`, { status: 'gone', operator: 'bob' })).status,
    ).toBe(400);
  });

  it('records an adjustment as a ledger event with who and why', async () => {
    const customer = await createCustomer(cloud.db, { phone: '+254711000002', name: 'Ali Hassan', pin: '1357' });
    const response = await admin('POST', '/admin/adjustments', {
      account_id: customer.account_id,
      amount_ml: 5_000,
      reason: 'meter fault refund',
      operator: 'carol',
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ account_id: customer.account_id, balance_ml: 5_000 });
    const events = await cloud.db.query<{ type: string; details: { reason: string; operator: string } }>(
      'SELECT type, details FROM ledger_events WHERE account_id = $1',
      [customer.account_id],
    );
    expect(events).toEqual([{ type: 'adjustment', details: { reason: 'meter fault refund', operator: 'carol' } }]);
  });

  it('refuses callers without the admin token', async () => {
    expect(
      (await fetch(`${cloud.url}/admin/negative-balances`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    expect((await fetch(`${cloud.url}/admin/kiosks`, { method: 'POST' })).status).toBe(401);
  });
});
