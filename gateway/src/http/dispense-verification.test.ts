import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/fixtures.js';
import { UNIFORM_DENIAL } from './dispense-verification.js';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway({ settings: { httpRateLimitPerMinute: 1000 }, legacyVerification: { open: true } });
});
afterAll(async () => {
  await gateway?.close();
});

const post = (body: unknown) =>
  fetch(`http://127.0.0.1:${gateway.httpPort}/dispense-verification`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /dispense-verification (seed-compatible)', () => {
  it('approves with the old body and records the dispense at once', async () => {
    const response = await post({ kiosk_id: 'K1', user_id: '0700000101', pin: '1234', volume_ml: 3000 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      approved: true,
      reason: 'verified',
      dispensed_ml: 3000,
      balance_ml: 17_000,
      user_data: { account_id: 'TSF000101' },
    });
    const events = gateway.store.ledger.eventsFor('TSF000101');
    expect(events).toEqual([expect.objectContaining({ type: 'dispense', amount_ml: -3000, event_id: body.event_id })]);
    expect(gateway.store.holds.heldMlFor('TSF000101', Date.now())).toBe(0);
  });

  it('answers an unknown number, an inactive account and a wrong PIN with one denial', async () => {
    const answers = [];
    for (const user_id of ['+254700000102', '+254700009999', '+254700000106']) {
      const response = await post({ kiosk_id: 'K1', user_id, pin: '9999', volume_ml: 1000 });
      expect(response.status).toBe(200);
      answers.push(await response.json());
    }
    expect(answers).toEqual([UNIFORM_DENIAL, UNIFORM_DENIAL, UNIFORM_DENIAL]);
    expect(gateway.store.ledger.eventsFor('TSF000102')).toEqual([]);
    // The wrong PIN still counts toward the customer's lockout.
    expect(gateway.store.pinFailures.get('TSF000102').failures).toBe(1);
  });

  it('keeps reasons that reveal nothing about the number', async () => {
    const response = await post({ kiosk_id: 'K1', user_id: '0700000104', pin: '1234', volume_ml: 25_000 });
    expect(await response.json()).toMatchObject({ approved: false, reason: 'INSUFFICIENT_BALANCE' });
  });

  it('answers a malformed body with 400 naming the field, and changes nothing', async () => {
    const response = await post({ kiosk_id: 'K1', user_id: '0700000103', pin: '1234', volume_ml: 'lots' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; message: string; fields: string[] };
    expect(body.code).toBe('INVALID_REQUEST');
    expect(body.fields).toContain('volume_ml');
    expect(body.message).toContain('volume_ml');
    const missing = await post({ kiosk_id: 'K1', pin: '1234', volume_ml: 1000 });
    expect(await missing.json()).toMatchObject({ fields: ['user_id'] });
    expect(gateway.store.ledger.eventsFor('TSF000103')).toEqual([]);
  });

  it('refuses a request addressed to another kiosk', async () => {
    const response = await post({ kiosk_id: 'K2', user_id: '0700000103', pin: '1234', volume_ml: 1000 });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'WRONG_KIOSK', fields: ['kiosk_id'] });
  });

  it('reports health', async () => {
    const response = await fetch(`http://127.0.0.1:${gateway.httpPort}/health`);
    expect(await response.json()).toMatchObject({ status: 'ok', kiosk_id: 'K1', customers: 6 });
  });
});

describe('failure budget per client address', () => {
  it('answers 429 after 20 failed guesses from one address, without checking more', async () => {
    const guessed = await startTestGateway({
      settings: { httpRateLimitPerMinute: 1000 },
      legacyVerification: { open: true },
    });
    try {
      const guess = (user_id: string, pin = '0000') =>
        fetch(`http://127.0.0.1:${guessed.httpPort}/dispense-verification`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ kiosk_id: 'K1', user_id, pin, volume_ml: 1000 }),
        });
      for (let i = 0; i < 20; i++) {
        const response = await guess(`+2547000${String(20_000 + i)}`);
        expect(await response.json()).toEqual(UNIFORM_DENIAL);
      }
      const refused = await guess('+254700000101', '1234');
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ code: 'RATE_LIMITED' });
      expect(guessed.store.ledger.eventsFor('TSF000101')).toEqual([]);
    } finally {
      await guessed.close();
    }
  });
});

describe('access', () => {
  const body = JSON.stringify({ kiosk_id: 'K1', user_id: '0700000101', pin: '1234', volume_ml: 1000 });
  const call = (g: TestGateway, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${g.httpPort}/dispense-verification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('is not served unless configured', async () => {
    const closed = await startTestGateway();
    try {
      expect((await call(closed)).status).toBe(404);
    } finally {
      await closed.close();
    }
  });

  it('serves a client on the allowlist or with the client secret, and no one else', async () => {
    const secret = 'legacy-client-secret-0123456789';
    const other = await startTestGateway({ legacyVerification: { allow: ['10.9.9.9'], secret } });
    const local = await startTestGateway({ legacyVerification: { allow: ['127.0.0.1'] } });
    try {
      expect((await call(other)).status).toBe(403);
      expect((await call(other, { authorization: 'Bearer wrong-secret-0123456789' })).status).toBe(403);
      expect(await (await call(other, { authorization: `Bearer ${secret}` })).json()).toMatchObject({ approved: true });
      expect(await (await call(local)).json()).toMatchObject({ approved: true });
    } finally {
      await other.close();
      await local.close();
    }
  });
});

describe('decision records', () => {
  it('are pruned by age', async () => {
    const pruned = await startTestGateway({
      settings: { decisionRetentionMs: 1000 },
      legacyVerification: { open: true },
    });
    try {
      const count = () => pruned.store.db.prepare('SELECT count(*) AS n FROM auth_decisions').get() as { n: number };
      await fetch(`http://127.0.0.1:${pruned.httpPort}/dispense-verification`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kiosk_id: 'K1', user_id: '0700000101', pin: '0000', volume_ml: 1000 }),
      });
      expect(count().n).toBe(1);
      await expect.poll(() => count().n, { timeout: 10_000, interval: 200 }).toBe(0);
    } finally {
      await pruned.close();
    }
  });
});

describe('rate limit', () => {
  it('answers 429 once a client exceeds the limit', async () => {
    const limited = await startTestGateway({ settings: { httpRateLimitPerMinute: 2 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`http://127.0.0.1:${limited.httpPort}/health`)).status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await limited.close();
    }
  });
});
