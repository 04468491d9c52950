import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import type { CustomerRecord } from '@tusafishe/protocol';
import { secretToken, zoneAtNoon } from '@tusafishe/protocol/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CommandResult,
  decodeMessage,
  DispenserCommand,
  DispenserConfig,
  dispenserTopic,
  newId,
} from '@tusafishe/protocol';
import {
  connectMqtt,
  demoPassword,
  nextMessage,
  startTestGateway,
  TestDispenser,
  type TestGateway,
} from '../../test/fixtures.js';
import { LogRing } from '../log-ring.js';
import { createLogger } from '../logger.js';
import { authenticateTechnician, createTechnician, MAX_FAILED_SIGN_INS } from './technician-accounts.js';
import { technicianApi } from './technician-api.js';
import { SyncExtension } from '../sync/sync-extension.js';

const USERNAME = 'wanjiru';
const PASSWORD = 'kiosk-fixer-2024';
const JSON_HEADERS = { 'content-type': 'application/json' };
/** The kiosk's zone: noon there now, so "today" and the usage buckets never cross its midnight in a run. */
const ZONE = zoneAtNoon();

/** A real gateway (store, broker, HTTP) with the technician API registered the way main.ts does it. */
function startHarness(syncEnv?: NodeJS.ProcessEnv): Promise<TestGateway> {
  const logs = new LogRing();
  return startTestGateway({
    settings: { timezone: ZONE },
    logger: createLogger({ level: process.env.TEST_LOG ?? 'silent' }, logs),
    extensions: async (core) => {
      await createTechnician(core.store.db, USERNAME, PASSWORD);
      const sync = syncEnv ? new SyncExtension(core, syncEnv) : undefined;
      await core.http.register(technicianApi, { gateway: core, logs, ...(sync ? { sync } : {}) });
      return sync ? [sync] : [];
    },
  });
}

async function signIn(app: FastifyInstance, password = PASSWORD) {
  return app.inject({
    method: 'POST',
    url: '/api/session',
    headers: JSON_HEADERS,
    payload: { username: USERNAME, password },
  });
}

function cookieOf(response: Awaited<ReturnType<typeof signIn>>): string {
  const cookie = response.cookies.find((c) => c.name === 'tusafishe_session');
  if (!cookie) throw new Error('no session cookie');
  return `${cookie.name}=${cookie.value}`;
}

/** A real dispense over MQTT, as a dispenser reports it (pulses at 450 per litre). */
async function dispense(gateway: TestGateway, dispenserId: string, phone: string, ml: number): Promise<string> {
  const dispenser = await TestDispenser.connect(gateway, dispenserId);
  try {
    const approval = await dispenser.authorise(dispenser.request(phone, ml));
    if (!approval.approved) throw new Error(`dispense refused: ${approval.reason}`);
    await dispenser.complete(dispenser.completion(approval, ml));
    return approval.session_id;
  } finally {
    await dispenser.close();
  }
}

describe('technician API', () => {
  let gateway: TestGateway;
  let app: FastifyInstance;
  let cookie: string;

  beforeAll(async () => {
    gateway = await startHarness();
    app = gateway.http;
    cookie = cookieOf(await signIn(app));
  });
  afterAll(() => gateway?.close());

  it('refuses a wrong password and sets an HttpOnly SameSite=Strict cookie for the right one', async () => {
    const wrong = await signIn(app, 'not-the-password');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(wrong.cookies).toHaveLength(0);

    const right = await signIn(app);
    expect(right.statusCode).toBe(200);
    const cookie = right.cookies.find((c) => c.name === 'tusafishe_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const me = await app.inject({ url: '/api/session', headers: { cookie: cookieOf(right) } });
    expect(me.json()).toEqual({ username: USERNAME });
  });

  it('refuses every state change and every customer read without a session, changing nothing', async () => {
    const spec = (await app.inject({ url: '/api/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const before = gateway.store.db.prepare('SELECT count(*) AS n FROM technician_audit').get();
    const calibrations = () => gateway.store.dispensers.list().map((d) => d.config.pulses_per_litre);
    const calibrationsBefore = calibrations();
    const checked: string[] = [];
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const method of Object.keys(methods)) {
        if (path === '/api/session' && method === 'post') continue; // signing in is how a session starts
        const url = path.replace('{dispenserId}', 'D1').replace('{accountId}', 'TSF000101');
        const response = await app.inject({
          method: method.toUpperCase() as 'GET',
          url: method === 'get' && path === '/api/customers' ? `${url}?q=0700000101` : url,
          headers: JSON_HEADERS,
          payload:
            method === 'get'
              ? undefined
              : { reason: 'no session', measured_ml: 1000, session_id: newId(), duration_ms: 1000 },
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
        'get /api/logs',
      ]),
    );
    expect(gateway.store.db.prepare('SELECT count(*) AS n FROM technician_audit').get()).toEqual(before);
    expect(calibrations()).toEqual(calibrationsBefore);
  });

  it('refuses a state change sent as a form, even with a session (CSRF)', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/customers/TSF000101/unlock',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'reason=csrf',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ code: 'JSON_REQUIRED' });
    const crossSite = await app.inject({ url: '/api/overview', headers: { cookie, origin: 'http://evil.example' } });
    expect(crossSite.json()).toMatchObject({ code: 'CROSS_ORIGIN' });
    const garbled = await app.inject({ url: '/api/overview', headers: { cookie, origin: 'not a url' } });
    expect(garbled.statusCode).toBe(403);
  });

  it('finds a locked customer by any form of phone number and unlocks them with an audited reason', async () => {
    const { store } = gateway;
    for (let i = 0; i < 5; i++) store.pinFailures.recordFailure('TSF000103', Date.now(), 5, 15 * 60_000);
    const found = await app.inject({ url: '/api/customers?q=0700%20000%20103', headers: { cookie } });
    expect(found.json()).toMatchObject({
      account_id: 'TSF000103',
      phone: '+254700000103',
      balance_ml: 20_000,
      today_ml: 0,
    });
    expect(found.json().locked_until).toBeGreaterThan(Date.now());

    const missingReason = await app.inject({
      method: 'POST',
      url: '/api/customers/TSF000103/unlock',
      headers: { cookie, ...JSON_HEADERS },
      payload: {},
    });
    expect(missingReason.statusCode).toBe(400);

    const unlocked = await app.inject({
      method: 'POST',
      url: '/api/customers/TSF000103/unlock',
      headers: { cookie, ...JSON_HEADERS },
      payload: { reason: 'customer showed ID, forgot PIN' },
    });
    expect(unlocked.json()).toMatchObject({ account_id: 'TSF000103', locked_until: null, failed_pins: 0 });
    expect(
      store.db.prepare("SELECT target, reason FROM technician_audit WHERE action = 'customer_unlock'").all(),
    ).toEqual([{ target: 'TSF000103', reason: 'customer showed ID, forgot PIN' }]);

    const byAccount = await app.inject({ url: '/api/customers?q=tsf000103', headers: { cookie } });
    expect(byAccount.json()).toMatchObject({ account_id: 'TSF000103', balance_known: true });
    const invalid = await app.inject({ url: '/api/customers?q=12', headers: { cookie } });
    expect(invalid.json()).toMatchObject({ code: 'INVALID_PHONE' });
    const unknown = await app.inject({ url: '/api/customers?q=0700000999', headers: { cookie } });
    expect(unknown.statusCode).toBe(404);
  });

  it('asks the cloud for a balance the kiosk does not follow, and says when it could not', async () => {
    const asked: string[] = [];
    let answer: CustomerRecord | null = null;
    gateway.dispenseFlow.useCustomerLookup(async (accountId) => {
      asked.push(accountId);
      if (answer) gateway.store.applyCustomerRecords([answer]);
      return answer;
    });
    try {
      const unreachable = await app.inject({ url: '/api/customers?q=TSF000104', headers: { cookie } });
      expect(unreachable.json()).toMatchObject({ account_id: 'TSF000104', balance_ml: 20_000, balance_known: false });
      answer = { ...gateway.store.customers.findByAccount('TSF000104')!, balance_ml: 55_000, version: 99 };
      const known = await app.inject({ url: '/api/customers?q=TSF000104', headers: { cookie } });
      expect(known.json()).toMatchObject({ balance_ml: 55_000, balance_known: true });
      expect(asked).toEqual(['TSF000104', 'TSF000104']);
    } finally {
      gateway.dispenseFlow.useCustomerLookup(null);
    }
  });

  it('calibrates a dispenser from a reference dispense and republishes its retained config', async () => {
    // The meter counted 450 pulses (the dispenser said 1000 mL) but the jug shows 900 mL.
    const sessionId = await dispense(gateway, 'D2', '+254700000102', 1000);
    const response = await app.inject({
      method: 'POST',
      url: '/api/dispensers/D2/calibration',
      headers: { cookie, ...JSON_HEADERS },
      payload: { session_id: sessionId, measured_ml: 900 },
    });
    expect(response.json()).toEqual({
      dispenser_id: 'D2',
      old_pulses_per_litre: 450,
      new_pulses_per_litre: 500,
      pulses: 450,
      measured_ml: 900,
    });

    const d2 = await connectMqtt(gateway.mqttPort, 'D2', demoPassword(gateway, 'D2'));
    const retained = nextMessage(d2, dispenserTopic('D2', 'config'), (payload) => {
      const decoded = decodeMessage(DispenserConfig, payload);
      return decoded.ok ? decoded.value : undefined;
    });
    await d2.subscribeAsync(dispenserTopic('D2', 'config'), { qos: 1 });
    expect(await retained).toMatchObject({ pulses_per_litre: 500 });
    await d2.endAsync();

    const detail = await app.inject({ url: '/api/dispensers/D2', headers: { cookie } });
    expect(detail.json()).toMatchObject({
      pulses_per_litre: 500,
      recent_dispenses: [{ session_id: sessionId, pulses: 450, delivered_ml: 1000 }],
    });
    const otherDispenser = await app.inject({
      method: 'POST',
      url: '/api/dispensers/D3/calibration',
      headers: { cookie, ...JSON_HEADERS },
      payload: { session_id: sessionId, measured_ml: 900 },
    });
    expect(otherDispenser.json()).toMatchObject({ code: 'UNKNOWN_DISPENSE' });
  });

  it('runs a valve test and answers with what the dispenser measured', async () => {
    const d3 = await connectMqtt(gateway.mqttPort, 'D3', demoPassword(gateway, 'D3'));
    await d3.subscribeAsync(dispenserTopic('D3', 'command'), { qos: 1 });
    d3.on('message', (_topic, payload) => {
      const command = decodeMessage(DispenserCommand, payload);
      if (!command.ok) return;
      const result: CommandResult = { command_id: command.value.command_id, ok: true, delivered_ml: 160, pulses: 72 };
      void d3.publishAsync(dispenserTopic('D3', 'command/result'), JSON.stringify(result), { qos: 1 });
    });
    const response = await app.inject({
      method: 'POST',
      url: '/api/dispensers/D3/valve-test',
      headers: { cookie, ...JSON_HEADERS },
      payload: { duration_ms: 1000 },
    });
    expect(response.json()).toEqual({ ok: true, message: null, delivered_ml: 160, pulses: 72 });
    expect(gateway.store.db.prepare("SELECT target FROM technician_audit WHERE action = 'valve_test'").all()).toEqual([
      { target: 'D3' },
    ]);
    await d3.endAsync();
  });

  it('reports usage per hour and per dispenser and exports transactions as CSV', async () => {
    const overview = async () => (await app.inject({ url: '/api/overview', headers: { cookie } })).json();
    // Other tests dispense too, in any order (`--sequence.shuffle`): today's totals grow by this one.
    const { today } = await overview();
    await dispense(gateway, 'D4', '+254700000104', 2500);
    const usage = (await app.inject({ url: '/api/usage?range=day', headers: { cookie } })).json();
    expect(usage.buckets).toHaveLength(24);
    expect(usage.by_dispenser).toEqual(expect.arrayContaining([{ dispenser_id: 'D4', ml: 2500 }]));
    expect(usage.tank).toBeNull();
    expect(await overview()).toMatchObject({
      kiosk_id: 'K1',
      hardware: null,
      sync: null,
      today: { dispensed_ml: today.dispensed_ml + 2500, dispenses: today.dispenses + 1 },
    });
    const week = (await app.inject({ url: '/api/usage?range=week', headers: { cookie } })).json();
    expect(week.buckets).toHaveLength(7);
    expect(week.buckets.at(-1).ml).toBeGreaterThanOrEqual(2500);

    const csv = await app.inject({ url: '/api/transactions.csv', headers: { cookie } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe(
      'occurred_at,event_id,type,account_id,phone,amount_ml,kiosk_id,dispenser_id,source_id,synced',
    );
    expect(lines.some((line) => line.includes(',dispense,TSF000104,+254700000104,-2500,K1,D4,'))).toBe(true);
    const badRange = await app.inject({
      url: '/api/transactions.csv?from=2024-05-02&to=2024-05-01',
      headers: { cookie },
    });
    expect(badRange.statusCode).toBe(400);
  });

  it('pushes gateway events to a signed-in live feed and refuses the feed without a session', async () => {
    const port = gateway.httpPort;
    const anonymous = new WebSocket(`ws://127.0.0.1:${port}/api/live`);
    const refused = await new Promise<number>((resolve) =>
      anonymous.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(refused).toBe(401);

    const socket = new WebSocket(`ws://127.0.0.1:${port}/api/live`, { headers: { cookie } });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const message = new Promise<unknown>((resolve) =>
      socket.once('message', (data) => resolve(JSON.parse(String(data)))),
    );
    gateway.events.emit('dispenser-status', {
      dispenser_id: 'D5',
      online: false,
      firmware: null,
      heartbeat: null,
      at: 1,
    });
    expect(await message).toEqual({ type: 'dispenser-status', dispenser_id: 'D5', online: false, at: 1 });
    socket.close();
  });

  it('shows a signed-in technician the recent log, filtered by level and module, redacted', async () => {
    await expect(connectMqtt(gateway.mqttPort, 'D4', 'not-the-password')).rejects.toThrow();
    gateway.logger.child({ module: 'sync' }).error({ status: 503 }, 'push failed');
    gateway.logger.warn(
      {
        pin: 'pin-7391',
        dispenser: { password: 'pw-7391', config: { secret: 'secret-7391' } },
        req: { headers: { authorization: 'Bearer tok-7391' } },
      },
      'redaction check',
    );
    const logs = (query: string, headers: Record<string, string> = { cookie }) =>
      app.inject({ url: `/api/logs${query}`, headers });

    const warnings = await logs('?level=warn');
    expect(warnings.statusCode).toBe(200);
    const body = warnings.json();
    expect(body).toMatchObject({
      timezone: ZONE,
      capacity: 2000,
      modules: expect.arrayContaining(['core', 'sync']),
    });
    expect(body.entries.slice(0, 3).map((entry: { msg: string }) => entry.msg)).toEqual([
      'redaction check',
      'push failed',
      'broker login refused',
    ]);
    expect(body.entries[2]).toMatchObject({ level: 'warn', module: 'core', fields: { username: 'D4' } });
    // As tokens: the entries' epoch-ms times may hold the PIN's digits by chance.
    for (const secret of ['7391', 'not-the-password']) expect(warnings.body).not.toMatch(secretToken(secret));
    expect(body.entries[0].fields).toMatchObject({
      pin: '[redacted]',
      dispenser: { password: '[redacted]', config: { secret: '[redacted]' } },
    });

    expect((await logs('?module=sync')).json().entries).toEqual([
      expect.objectContaining({ level: 'error', msg: 'push failed' }),
    ]);
    expect(
      (await logs('?level=info&limit=500'))
        .json()
        .entries.some((entry: { msg: string }) => entry.msg === 'gateway listening'),
    ).toBe(true);
    expect((await logs('?limit=0')).statusCode).toBe(400);
    expect((await logs('?level=debug')).statusCode).toBe(400);

    const anonymous = await logs('?level=info', {});
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({ code: 'NOT_SIGNED_IN', message: 'sign in first' });
  });

  it('ends the session on sign-out', async () => {
    const own = cookieOf(await signIn(app));
    const out = await app.inject({
      method: 'DELETE',
      url: '/api/session',
      headers: { cookie: own, ...JSON_HEADERS },
      payload: {},
    });
    expect(out.statusCode).toBe(200);
    expect((await app.inject({ url: '/api/overview', headers: { cookie: own } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/overview', headers: { cookie } })).statusCode).toBe(200);
  });
});

describe('technician sign-in protection', () => {
  // A cloud nobody answers at: sync carries its URL and errors, which only technicians may read.
  const CLOUD_URL = 'http://127.0.0.1:9/unreachable-cloud';
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startHarness({ CLOUD_URL, KIOSK_SECRET: 'technician-test-kiosk-secret' });
  });
  afterAll(() => gateway?.close());
  const url = (path: string) => `http://127.0.0.1:${gateway.httpPort}${path}`;

  it('counts concurrent wrong guesses each, so no more than the limit are ever checked', async () => {
    const guessed = await startHarness();
    try {
      const guess = (password: string) =>
        fetch(`http://127.0.0.1:${guessed.httpPort}/api/session`, {
          method: 'POST',
          headers: JSON_HEADERS,
          body: JSON.stringify({ username: USERNAME, password }),
        });
      const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => guess(`guess-number-${i}`)));
      expect(statuses.map((r) => r.status).sort()).toEqual([401, 401, 401, 401, 401, 423, 423, 423, 423, 423]);
      await expect(authenticateTechnician(guessed.store.db, USERNAME, PASSWORD)).rejects.toMatchObject({
        code: 'TECHNICIAN_LOCKED',
      });
    } finally {
      await guessed.close();
    }
  });

  it('takes as long for an unknown username as for a known one', async () => {
    const timed = async (username: string) => {
      const started = performance.now();
      await expect(authenticateTechnician(gateway.store.db, username, 'not-the-password')).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
      return performance.now() - started;
    };
    await timed('nobody-by-this-name');
    // The fastest of three of each: a known user costs one technician-grade scrypt, and so must an
    // unknown one (without the decoy hash it answers in well under a hundredth of that). The tries
    // alternate, so a burst of load on a shared machine slows both sides alike, and a tenth leaves room.
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await timed(USERNAME));
      unknown.push(await timed(`nobody-${i}`));
    }
    expect(Math.min(...unknown)).toBeGreaterThan(Math.min(...known) / 10);
    await authenticateTechnician(gateway.store.db, USERNAME, PASSWORD);
  });

  it('sends security headers on the UI, its API and the public routes', async () => {
    for (const path of ['/health', '/api/session', '/']) {
      const response = await fetch(url(path));
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toContain('upgrade-insecure-requests');
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('keeps the sync state behind sign-in, and /health without the cloud URL or errors', async () => {
    expect((await fetch(url('/api/sync'))).status).toBe(401);
    const cookie = cookieOf(await signIn(gateway.http));
    const syncState = async () => (await fetch(url('/api/sync'), { headers: { cookie } })).json();
    await expect
      .poll(syncState, { timeout: 15_000 })
      .toMatchObject({ cloud_url: expect.stringContaining('unreachable-cloud'), last_error: expect.anything() });
    const health = await (await fetch(url('/health'))).text();
    expect(health).toContain('"status":"ok"');
    expect(health).not.toContain('unreachable-cloud');
    expect(health).not.toMatch(/error/i);
  });

  it('locks an account after repeated wrong passwords, even against the right one', async () => {
    const { db } = gateway.store;
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      await expect(authenticateTechnician(db, USERNAME, 'wrong-password')).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
    }
    await expect(authenticateTechnician(db, USERNAME, PASSWORD)).rejects.toMatchObject({ code: 'TECHNICIAN_LOCKED' });
    await expect(authenticateTechnician(db, USERNAME, PASSWORD, Date.now() + 16 * 60_000)).resolves.toMatchObject({
      username: USERNAME,
    });
  });

  it('rate-limits sign-in attempts', async () => {
    // From an address of its own and for no account, so the other tests' sign-ins (in any order)
    // neither count towards its limit nor meet it, and the account is not locked.
    const guess = (i: number) =>
      gateway.http.inject({
        method: 'POST',
        url: '/api/session',
        remoteAddress: '192.0.2.7',
        headers: JSON_HEADERS,
        payload: { username: 'a-guessed-name', password: `guess-${i}` },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await guess(i)).statusCode);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.at(-1)).toBe(429);
  });
});
