import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySecret } from '@tusafishe/protocol/secret-hash';
import { recordAdjustment } from '../src/admin/adjustments.js';
import type { RunningCloud } from '../src/cloud.js';
import { createCustomer, findCustomer } from '../src/customers/customers.js';
import { applyLockout } from '../src/ledger/ledger.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { dial } from './africas-talking.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { signInAs, type ConsoleSession } from './console-session.js';
import { lastSmsCode } from './sms-code.js';
import { dispenseEvent, kioskClient } from './kiosk-client.js';

// Issue 12 §4: customer service in the console; every action reaches the gateways through sync.
describe.each(backends())('console customer service, on $name', (backend) => {
  let cloud: RunningCloud;
  let kiosk: KioskCredential;
  let support: ConsoleSession;
  let finance: ConsoleSession;
  let admin: ConsoleSession;
  beforeAll(async () => {
    cloud = await startTestCloud(backend, { console: { correctionCapMl: 10_000 } });
    kiosk = await createKiosk(cloud.db, { kioskId: 'KIOSK-CS' });
    [support, finance, admin] = await Promise.all([
      signInAs(cloud, 'customer_service', 'support'),
      signInAs(cloud, 'finance'),
      signInAs(cloud, 'admin'),
    ]);
  });
  afterAll(() => stopTestCloud(cloud, backend));

  it('finds a customer by phone in any keypad form, by account id or name, 25 a page', async () => {
    const wanjiru = await createCustomer(cloud.db, { phone: '+254712345001', name: 'Wanjiru Kamau' });
    for (let i = 0; i < 26; i += 1)
      await createCustomer(cloud.db, { phone: `+2547123460${String(i).padStart(2, '0')}`, name: `Akinyi ${i}` });
    for (const q of ['0712 345 001', '254712345001', '+254712345001', wanjiru.account_id, 'kamau', 'wanj']) {
      const { customers } = await support.json<{ customers: { account_id: string }[] }>(
        'GET',
        `/customers?q=${encodeURIComponent(q)}`,
      );
      expect(
        customers.map((c) => c.account_id),
        q,
      ).toEqual([wanjiru.account_id]);
    }
    const first = await finance.json<{ customers: unknown[]; has_more: boolean }>('GET', '/customers?q=akinyi');
    expect([first.customers.length, first.has_more]).toEqual([25, true]);
    const second = await finance.json<{ customers: unknown[]; has_more: boolean }>('GET', '/customers?q=akinyi&page=2');
    expect([second.customers.length, second.has_more]).toEqual([1, false]);
    const csv = await (await support.request('GET', '/customers.csv?q=kamau')).text();
    expect(csv).toBe(
      `account_id,phone,name,status,balance_ml,locked_until\n"${wanjiru.account_id}","+254712345001","Wanjiru Kamau","inactive","0",""\n`,
    );
    const field = await signInAs(cloud, 'field');
    expect((await field.request('GET', '/customers?q=kamau')).status).toBe(403);
  });

  it('resets a locked-out PIN by an SMS code the customer redeems on USSD; no operator sees it', async () => {
    const phone = '+256772100001';
    const customer = await createCustomer(cloud.db, { phone, name: 'Okello Peter', pin: '2580' });
    await cloud.db.transaction((tx) => applyLockout(tx, customer.account_id, Date.now() + 600_000));
    expect((await finance.request('POST', `/customers/${customer.account_id}/pin-reset`)).status).toBe(403);
    const started = await support.request('POST', `/customers/${customer.account_id}/pin-reset`);
    expect(started.status).toBe(202);
    expect(await started.text()).not.toMatch(/\d{6}/);
    const code = await lastSmsCode(cloud, phone);
    const wrong = code === '000000' ? '000001' : '000000';
    expect((await dial(cloud.url, phone, ['3', wrong])).at(-1)).toMatch(/^CON Wrong or expired code/);
    const screens = await dial(cloud.url, phone, ['3', code, '4826', '4826']);
    expect(screens[1]).toMatch(/^CON Enter your current PIN, or the 6-digit reset code/);
    expect(screens.at(-1)).toMatch(/^END Your PIN is set/);
    const after = (await findCustomer(cloud.db, customer.account_id))!;
    expect(await verifySecret('4826', after.pin_hash)).toBe(true);
    expect(after.locked_until).toBeNull();
    // Spent: the same code does nothing again.
    expect((await dial(cloud.url, phone, ['3', code])).at(-1)).toMatch(
      /^CON Wrong PIN|Too many|Enter your current PIN/,
    );
    const audit = await cloud.db.query<{ actor: string; action: string }>(
      'SELECT actor, action FROM audit_log WHERE subject = $1 ORDER BY id',
      [customer.account_id],
    );
    expect(audit).toEqual([
      { actor: 'support', action: 'customer.pin_reset' },
      { actor: 'customer', action: 'customer.pin_reset.redeemed' },
    ]);
  });

  it('reverses a disputed dispense once, within the cap, and gateways pull the new balance', async () => {
    const customer = await createCustomer(cloud.db, { phone: '+254712345099', name: 'Ali Hassan', pin: '1357' });
    await recordAdjustment(cloud.db, {
      accountId: customer.account_id,
      amountMl: 50_000,
      reason: 'credit',
      operator: 't',
    });
    const gateway = kioskClient(cloud.url, kiosk);
    const small = dispenseEvent('KIOSK-CS', customer.account_id, 5_000);
    const big = dispenseEvent('KIOSK-CS', customer.account_id, 20_000);
    const pushed = await gateway.push([small, big]);
    expect(pushed.body.balances[0]?.balance_ml).toBe(25_000);
    const { cursor } = (await gateway.pull({ limit: 5000 })).body;

    const reversed = await support.request('POST', `/customers/${customer.account_id}/reversals`, {
      event_id: small.event_id,
      reason: 'valve stuck, no water',
    });
    expect(reversed.status).toBe(201);
    expect(await reversed.json()).toMatchObject({ amount_ml: 5_000, balance_ml: 30_000 });
    const again = await support.request('POST', `/customers/${customer.account_id}/reversals`, {
      event_id: small.event_id,
      reason: 'second try',
    });
    expect([again.status, ((await again.json()) as { code: string }).code]).toEqual([409, 'ALREADY_REVERSED']);
    const overCap = await support.request('POST', `/customers/${customer.account_id}/reversals`, {
      event_id: big.event_id,
      reason: 'meter fault',
    });
    expect([overCap.status, ((await overCap.json()) as { code: string }).code]).toEqual([403, 'CORRECTION_OVER_CAP']);
    expect(
      (
        await admin.request('POST', `/customers/${customer.account_id}/reversals`, {
          event_id: big.event_id,
          reason: 'meter fault',
        })
      ).status,
    ).toBe(201);

    const pulled = await gateway.pull({ cursor });
    expect(pulled.body.customers.find((c) => c.account_id === customer.account_id)?.balance_ml).toBe(50_000);
    const { events } = await support.json<{ events: { event_id: string; type: string; reversed_by: string | null }[] }>(
      'GET',
      `/customers/${customer.account_id}/events`,
    );
    expect(events.filter((e) => e.type === 'reversal')).toHaveLength(2);
    expect(events.find((e) => e.event_id === small.event_id)?.reversed_by).toEqual(expect.any(String));
  });

  it('moves an account to a new number confirmed by a code sent to that number', async () => {
    const customer = await createCustomer(cloud.db, { phone: '+254712345077', name: 'Mercy Otieno', pin: '1357' });
    const gateway = kioskClient(cloud.url, kiosk);
    const { cursor } = (await gateway.pull({ limit: 5000 })).body;
    const started = await support.request('POST', `/customers/${customer.account_id}/phone`, { phone: '0722 000 777' });
    expect(await started.json()).toEqual({ sent_to: '+254722000777' });
    const code = await lastSmsCode(cloud, '+254722000777');
    const wrong = await support.request('POST', `/customers/${customer.account_id}/phone/confirm`, {
      code: code === '000000' ? '000001' : '000000',
    });
    expect(wrong.status).toBe(400);
    const confirmed = await support.json('POST', `/customers/${customer.account_id}/phone/confirm`, { code });
    expect(confirmed).toEqual({ phone: '+254722000777' });
    const pulled = await gateway.pull({ cursor });
    expect(pulled.body.customers.find((c) => c.account_id === customer.account_id)?.phone).toBe('+254722000777');
  });

  it('lets only admin list, add, disable and reset operators', async () => {
    const added = await admin.request('POST', '/operators', {
      username: 'neema',
      role: 'field',
      password: 'field-password-1',
    });
    expect(added.status).toBe(201);
    expect(((await added.json()) as { operators: { username: string }[] }).operators.map((o) => o.username)).toContain(
      'neema',
    );
    expect((await admin.request('POST', '/operators/neema/password', { password: 'field-password-2' })).status).toBe(
      200,
    );
    const neema = await fetch(`${cloud.url}/console/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'neema', password: 'field-password-2' }),
    });
    expect(neema.status).toBe(200);
    const disabled = await admin.json<{ operators: { username: string; disabled: boolean }[] }>(
      'POST',
      '/operators/neema/disabled',
      { disabled: true },
    );
    expect(disabled.operators.find((o) => o.username === 'neema')?.disabled).toBe(true);
    for (const session of [support, finance])
      expect((await session.request('GET', '/operators')).status, session.role).toBe(403);
  });
});
