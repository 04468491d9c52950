import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../src/cloud.js';
import { createCustomer } from '../src/customers/customers.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { signInAs, type ConsoleSession } from './console-session.js';
import { kioskClient } from './kiosk-client.js';

// The operator routes behind console sessions; each audit line names the signed-in operator.
describe.each(backends())('operator endpoints on $name', (backend) => {
  let cloud: RunningCloud;
  let alice: ConsoleSession;
  let bob: ConsoleSession;
  let carol: ConsoleSession;
  beforeAll(async () => {
    cloud = await startTestCloud(backend);
    [alice, bob, carol] = await Promise.all([
      signInAs(cloud, 'admin', 'alice'),
      signInAs(cloud, 'customer_service', 'bob'),
      signInAs(cloud, 'customer_service', 'carol'),
    ]);
  });
  afterAll(() => stopTestCloud(cloud, backend));
  const admin = (method: string, path: string, body?: unknown) => alice.request(method, path, body);

  it('provisions a kiosk whose credential then syncs, once, and audits it', async () => {
    const created = await admin('POST', '/kiosks', { kiosk_id: 'KIOSK-ADM' });
    expect(created.status).toBe(201);
    const { kiosk_id: kioskId, secret } = (await created.json()) as { kiosk_id: string; secret: string };
    expect((await kioskClient(cloud.url, { kioskId, secret }).pull()).status).toBe(200);
    const again = await admin('POST', '/kiosks', { kiosk_id: 'KIOSK-ADM' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('KIOSK_EXISTS');
    const audit = await cloud.db.query<{ actor: string; action: string }>(
      "SELECT actor, action FROM audit_log WHERE subject = 'KIOSK-ADM'",
    );
    expect(audit).toEqual([{ actor: 'alice', action: 'kiosk.create' }]);
  });

  it('changes what gateways enforce (status, kiosks, limits) and gateways pull it', async () => {
    const kiosk = (await (await admin('POST', '/kiosks', { kiosk_id: 'KIOSK-PULL' })).json()) as {
      kiosk_id: string;
      secret: string;
    };
    const gateway = kioskClient(cloud.url, { kioskId: kiosk.kiosk_id, secret: kiosk.secret });
    const customer = await createCustomer(cloud.db, { phone: '+254711000001', name: 'Ruth Wanjiru', pin: '2468' });
    const { body: head } = await gateway.pull({ limit: 5000 });
    const patched = await bob.request('PATCH', `/customers/${customer.account_id}`, {
      status: 'suspended',
      allowed_kiosks: ['KIOSK-PULL'],
      daily_limit_ml: 40_000,
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
    expect((await bob.request('PATCH', '/customers/TSNOBODY0', { status: 'active' })).status).toBe(404);
    expect((await bob.request('PATCH', `/customers/${customer.account_id}`, { status: 'gone' })).status).toBe(400);
    const audit = await cloud.db.query<{ actor: string }>(
      "SELECT actor FROM audit_log WHERE action = 'customer.update' AND subject = $1",
      [customer.account_id],
    );
    expect(audit).toEqual([{ actor: 'bob' }]);
  });

  it('records an adjustment as a ledger event with who and why', async () => {
    const customer = await createCustomer(cloud.db, { phone: '+254711000002', name: 'Ali Hassan', pin: '1357' });
    const response = await carol.request('POST', '/adjustments', {
      account_id: customer.account_id,
      amount_ml: 5_000,
      reason: 'meter fault refund',
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ account_id: customer.account_id, balance_ml: 5_000 });
    const events = await cloud.db.query<{ type: string; details: { reason: string; operator: string } }>(
      'SELECT type, details FROM ledger_events WHERE account_id = $1',
      [customer.account_id],
    );
    expect(events).toEqual([{ type: 'adjustment', details: { reason: 'meter fault refund', operator: 'carol' } }]);
  });

  it('refuses callers without a session, and roles without the right', async () => {
    expect(
      (await fetch(`${cloud.url}/console/api/negative-balances`, { headers: { authorization: 'Bearer x' } })).status,
    ).toBe(401);
    expect((await fetch(`${cloud.url}/console/api/kiosks`, { method: 'POST' })).status).toBe(401);
    expect((await bob.request('POST', '/kiosks', { kiosk_id: 'KIOSK-BOB' })).status).toBe(403);
    const field = await signInAs(cloud, 'field');
    const refused = await field.request('POST', '/adjustments', { account_id: 'TS1234', amount_ml: 1, reason: 'xyz' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'ROLE_FORBIDDEN' });
  });
});
