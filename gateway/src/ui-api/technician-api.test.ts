import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@tusafishe/protocol';
import { GatewayEvents } from '../events.js';
import { seedDemoData } from '../seed/demo-data.js';
import { Store } from '../store/store.js';
import { authenticateTechnician, createTechnician, MAX_FAILED_SIGN_INS } from './technician-accounts.js';
import { technicianApi } from './technician-api.js';

const USERNAME = 'wanjiru';
const PASSWORD = 'kiosk-fixer-2024';
const JSON_HEADERS = { 'content-type': 'application/json' };

interface Harness {
  app: FastifyInstance;
  store: Store;
  events: GatewayEvents;
  calibrations: [string, number][];
  dir: string;
}

async function startHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-ui-api-'));
  const store = Store.open(dir);
  await seedDemoData(store, 'K1', dir, 450);
  await createTechnician(store.db, USERNAME, PASSWORD);
  const events = new GatewayEvents();
  const calibrations: [string, number][] = [];
  const app = Fastify();
  await app.register(technicianApi, {
    store,
    events,
    kioskId: 'K1',
    timezone: 'Africa/Nairobi',
    dispenserControl: {
      setPulsesPerLitre: (dispenserId, pulsesPerLitre) => {
        calibrations.push([dispenserId, pulsesPerLitre]);
        const record = store.dispensers.get(dispenserId);
        if (record) store.dispensers.setConfig(dispenserId, { ...record.config, pulses_per_litre: pulsesPerLitre });
      },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, store, events, calibrations, dir };
}

async function stopHarness(harness: Harness): Promise<void> {
  await harness.app.close();
  harness.store.close();
  await rm(harness.dir, { recursive: true, force: true });
}

async function signIn(app: FastifyInstance, password = PASSWORD) {
  return app.inject({ method: 'POST', url: '/api/session', headers: JSON_HEADERS, payload: { username: USERNAME, password } });
}

function cookieOf(response: Awaited<ReturnType<typeof signIn>>): string {
  const cookie = response.cookies.find((c) => c.name === 'tusafishe_session');
  if (!cookie) throw new Error('no session cookie');
  return `${cookie.name}=${cookie.value}`;
}

function recordDispense(store: Store, dispenserId: string, accountId: string, deliveredMl: number, pulses: number): string {
  const sessionId = newId();
  store.ledger.append({
    event_id: newId(),
    type: 'dispense',
    account_id: accountId,
    amount_ml: -deliveredMl,
    kiosk_id: 'K1',
    dispenser_id: dispenserId,
    source_id: sessionId,
    occurred_at: Date.now(),
    details: { delivered_ml: deliveredMl, pulses },
  });
  return sessionId;
}

describe('technician API', () => {
  let harness: Harness;
  let cookie: string;

  beforeAll(async () => {
    harness = await startHarness();
    cookie = cookieOf(await signIn(harness.app));
  });
  afterAll(() => stopHarness(harness));

  it('refuses a wrong password and sets an HttpOnly SameSite=Strict cookie for the right one', async () => {
    const wrong = await signIn(harness.app, 'not-the-password');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(wrong.cookies).toHaveLength(0);

    const right = await signIn(harness.app);
    expect(right.statusCode).toBe(200);
    const cookie = right.cookies.find((c) => c.name === 'tusafishe_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const me = await harness.app.inject({ url: '/api/session', headers: { cookie: cookieOf(right) } });
    expect(me.json()).toEqual({ username: USERNAME });
  });

  it('refuses every state change and every customer read without a session, changing nothing', async () => {
    const spec = (await harness.app.inject({ url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const before = harness.store.db.prepare('SELECT count(*) AS n FROM technician_audit').get();
    const checked: string[] = [];
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const method of Object.keys(methods)) {
        if (path === '/api/session' && method === 'post') continue; // signing in is how a session starts
        const url = path.replace('{dispenserId}', 'D1').replace('{accountId}', 'TSF000101');
        const response = await harness.app.inject({
          method: method.toUpperCase() as 'GET',
          url: method === 'get' && path === '/api/customers' ? `${url}?q=0700000101` : url,
          headers: JSON_HEADERS,
          payload: method === 'get' ? undefined : { reason: 'no session', measured_ml: 1000, session_id: newId(), duration_ms: 1000 },
        });
        expect(response.statusCode, `${method} ${path}`).toBe(401);
        checked.push(`${method} ${path}`);
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'post /api/customers/{accountId}/unlock',
        'post /api/dispensers/{dispenserId}/calibration',
        'post /api/dispensers/{dispenserId}/valve-test',
        'delete /api/session',
        'get /api/customers',
        'get /api/transactions.csv',
      ]),
    );
    expect(harness.store.db.prepare('SELECT count(*) AS n FROM technician_audit').get()).toEqual(before);
    expect(harness.calibrations).toEqual([]);
  });

  it('refuses a state change sent as a form, even with a session (CSRF)', async () => {
    const response = await harness.app.inject({
      method: 'POST',
      url: '/api/customers/TSF000101/unlock',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'reason=csrf',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ code: 'JSON_REQUIRED' });
  });

  it('finds a locked customer by any form of phone number and unlocks them with an audited reason', async () => {
    const { store, app } = harness;
    for (let i = 0; i < 5; i++) store.pinFailures.recordFailure('TSF000103', Date.now(), 5, 15 * 60_000);
    const found = await app.inject({ url: '/api/customers?q=0700%20000%20103', headers: { cookie } });
    expect(found.json()).toMatchObject({ account_id: 'TSF000103', phone: '+254700000103', balance_ml: 20_000, today_ml: 0 });
    expect(found.json().locked_until).toBeGreaterThan(Date.now());

    const missingReason = await app.inject({ method: 'POST', url: '/api/customers/TSF000103/unlock', headers: { cookie, ...JSON_HEADERS }, payload: {} });
    expect(missingReason.statusCode).toBe(400);

    const unlocked = await app.inject({
      method: 'POST',
      url: '/api/customers/TSF000103/unlock',
      headers: { cookie, ...JSON_HEADERS },
      payload: { reason: 'customer showed ID, forgot PIN' },
    });
    expect(unlocked.json()).toMatchObject({ account_id: 'TSF000103', locked_until: null, failed_pins: 0 });
    expect(store.db.prepare("SELECT target, reason FROM technician_audit WHERE action = 'customer_unlock'").all()).toEqual([
      { target: 'TSF000103', reason: 'customer showed ID, forgot PIN' },
    ]);

    const byAccount = await app.inject({ url: '/api/customers?q=tsf000103', headers: { cookie } });
    expect(byAccount.json()).toMatchObject({ account_id: 'TSF000103' });
    const invalid = await app.inject({ url: '/api/customers?q=12', headers: { cookie } });
    expect(invalid.json()).toMatchObject({ code: 'INVALID_PHONE' });
    const unknown = await app.inject({ url: '/api/customers?q=0700000999', headers: { cookie } });
    expect(unknown.statusCode).toBe(404);
  });

  it('calibrates a dispenser from a reference dispense and the measured volume', async () => {
    // The meter gave 450 pulses (the dispenser said 1000 mL) but the jug shows 900 mL.
    const sessionId = recordDispense(harness.store, 'D2', 'TSF000102', 1000, 450);
    const response = await harness.app.inject({
      method: 'POST',
      url: '/api/dispensers/D2/calibration',
      headers: { cookie, ...JSON_HEADERS },
      payload: { session_id: sessionId, measured_ml: 900 },
    });
    expect(response.json()).toEqual({ dispenser_id: 'D2', old_pulses_per_litre: 450, new_pulses_per_litre: 500, pulses: 450, measured_ml: 900 });
    expect(harness.calibrations).toEqual([['D2', 500]]);
    const detail = await harness.app.inject({ url: '/api/dispensers/D2', headers: { cookie } });
    expect(detail.json()).toMatchObject({ pulses_per_litre: 500, recent_dispenses: [{ session_id: sessionId, pulses: 450 }] });

    const wrongDispenser = await harness.app.inject({
      method: 'POST',
      url: '/api/dispensers/D3/calibration',
      headers: { cookie, ...JSON_HEADERS },
      payload: { session_id: sessionId, measured_ml: 900 },
    });
    expect(wrongDispenser.json()).toMatchObject({ code: 'UNKNOWN_DISPENSE' });
    const valveTest = await harness.app.inject({
      method: 'POST',
      url: '/api/dispensers/D2/valve-test',
      headers: { cookie, ...JSON_HEADERS },
      payload: { duration_ms: 1000 },
    });
    expect(valveTest.statusCode).toBe(501);
  });

  it('reports usage per hour and per dispenser and exports transactions as CSV', async () => {
    recordDispense(harness.store, 'D4', 'TSF000104', 2500, 1125);
    const usage = (await harness.app.inject({ url: '/api/usage?range=day', headers: { cookie } })).json();
    expect(usage.buckets).toHaveLength(24);
    expect(usage.by_dispenser).toEqual(expect.arrayContaining([{ dispenser_id: 'D4', ml: 2500 }]));
    expect(usage.tank).toBeNull();
    const week = (await harness.app.inject({ url: '/api/usage?range=week', headers: { cookie } })).json();
    expect(week.buckets).toHaveLength(7);
    expect(week.buckets.at(-1).ml).toBeGreaterThanOrEqual(2500);

    const csv = await harness.app.inject({ url: '/api/transactions.csv', headers: { cookie } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('occurred_at,event_id,type,account_id,phone,amount_ml,kiosk_id,dispenser_id,source_id,synced');
    expect(lines.some((line) => line.includes(',dispense,TSF000104,+254700000104,-2500,K1,D4,'))).toBe(true);
    const badRange = await harness.app.inject({ url: '/api/transactions.csv?from=2024-05-02&to=2024-05-01', headers: { cookie } });
    expect(badRange.statusCode).toBe(400);
  });

  it('pushes gateway events to a signed-in live feed and refuses the feed without a session', async () => {
    const { port } = harness.app.server.address() as { port: number };
    const anonymous = new WebSocket(`ws://127.0.0.1:${port}/api/live`);
    const refused = await new Promise<number>((resolve) => anonymous.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(refused).toBe(401);

    const socket = new WebSocket(`ws://127.0.0.1:${port}/api/live`, { headers: { cookie } });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const message = new Promise<unknown>((resolve) => socket.once('message', (data) => resolve(JSON.parse(String(data)))));
    harness.events.emit('dispenser-status', { dispenser_id: 'D5', online: false, firmware: null, heartbeat: null, at: 1 });
    expect(await message).toEqual({ type: 'dispenser-status', dispenser_id: 'D5', online: false, at: 1 });
    socket.close();
  });

  it('ends the session on sign-out', async () => {
    const own = cookieOf(await signIn(harness.app));
    const out = await harness.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: own, ...JSON_HEADERS }, payload: {} });
    expect(out.statusCode).toBe(200);
    expect((await harness.app.inject({ url: '/api/overview', headers: { cookie: own } })).statusCode).toBe(401);
    expect((await harness.app.inject({ url: '/api/overview', headers: { cookie } })).statusCode).toBe(200);
  });
});

describe('technician sign-in protection', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => stopHarness(harness));

  it('locks an account after repeated wrong passwords, even against the right one', async () => {
    const { db } = harness.store;
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      await expect(authenticateTechnician(db, USERNAME, 'wrong-password')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    }
    await expect(authenticateTechnician(db, USERNAME, PASSWORD)).rejects.toMatchObject({ code: 'TECHNICIAN_LOCKED' });
    await expect(authenticateTechnician(db, USERNAME, PASSWORD, Date.now() + 16 * 60_000)).resolves.toMatchObject({ username: USERNAME });
  });

  it('rate-limits sign-in attempts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await signIn(harness.app, `guess-${i}`)).statusCode);
    expect(statuses.at(-1)).toBe(429);
  });
});
