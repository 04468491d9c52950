import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/fixtures.js';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway({ settings: { httpRateLimitPerMinute: 1000 } });
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
    expect(gateway.store.sessions.heldMlFor('TSF000101', Date.now())).toBe(0);
  });

  it('answers a denial with its reason code', async () => {
    const response = await post({ kiosk_id: 'K1', user_id: '+254700000102', pin: '9999', volume_ml: 1000 });
    expect(await response.json()).toMatchObject({
      approved: false,
      reason: 'WRONG_PIN',
      message: 'Wrong PIN',
      attempts_left: 4,
    });
    expect(gateway.store.ledger.eventsFor('TSF000102')).toEqual([]);
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
