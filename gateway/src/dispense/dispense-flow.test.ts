import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, type AuthRequest, type CustomerRecord, type DenialCode } from '@tusafishe/protocol';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { secretToken } from '@tusafishe/protocol/testing';
import { type DispenseRecorded, GatewayEvents } from '../events.js';
import { seedDemoData } from '../seed/demo-data.js';
import { resolveSettings, type Settings } from '../settings.js';
import { Store } from '../store/store.js';
import { DispenseFlow } from './dispense-flow.js';
import { Interlocks } from './interlocks.js';

const KIOSK = 'K1';
let dir: string;
let store: Store;
let clock: number;
let interlocks: Interlocks;
let events: GatewayEvents;

function service(overrides: Partial<Settings> = {}): DispenseFlow {
  return new DispenseFlow({
    store,
    settings: resolveSettings(overrides),
    kioskId: KIOSK,
    interlocks,
    events,
    logger: pino({ level: 'silent' }),
    now: () => clock,
  });
}

const request = (phone: string, requested_ml = 5000, pin = '1234'): AuthRequest => ({
  request_id: newId(),
  phone,
  pin,
  requested_ml,
});

async function addCustomer(overrides: Partial<CustomerRecord>): Promise<string> {
  const phone = overrides.phone ?? '+254700000199';
  store.applyCustomerRecords([
    {
      account_id: 'TSF000199',
      phone,
      name: 'Test',
      pin_hash: await hashSecret('1234'),
      status: 'active',
      expires_at: null,
      daily_limit_ml: null,
      allowed_kiosks: null,
      balance_ml: 20_000,
      locked_until: null,
      version: 1,
      ...overrides,
    },
  ]);
  return phone;
}

// Migrated and seeded once; each test opens its own copy (a fresh store, without the cost).
let template: string;
beforeAll(async () => {
  template = await mkdtemp(join(tmpdir(), 'gw-sessions-template-'));
  const seeded = Store.open(template);
  await seedDemoData(seeded, KIOSK, template, 450);
  seeded.close();
});
afterAll(() => rm(template, { recursive: true, force: true }));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-sessions-'));
  await cp(template, dir, { recursive: true });
  store = Store.open(dir);
  clock = Date.UTC(2026, 0, 15, 9, 0, 0);
  store.setLastCloudContact(clock);
  interlocks = new Interlocks();
  events = new GatewayEvents();
});
afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

async function denial(
  sessions: DispenseFlow,
  req: AuthRequest,
  dispenser: string | null = 'D1',
): Promise<DenialCode | null> {
  const response = await sessions.authorise(req, dispenser);
  return response.approved ? null : response.reason;
}

describe('dispense verification: every denial reason', () => {
  it('denies unknown, invalid, inactive, expired and other-kiosk customers', async () => {
    const sessions = service();
    expect(await denial(sessions, request('+254700000999'))).toBe('UNKNOWN_CUSTOMER');
    expect(await denial(sessions, request('0000000'))).toBe('UNKNOWN_CUSTOMER');
    expect(await denial(sessions, request('0700000106'))).toBe('ACCOUNT_INACTIVE');
    const expired = await addCustomer({ expires_at: clock - 1 });
    expect(await denial(sessions, request(expired))).toBe('ACCOUNT_EXPIRED');
    const elsewhere = await addCustomer({ expires_at: null, allowed_kiosks: ['K9'], version: 2 });
    expect(await denial(sessions, request(elsewhere))).toBe('KIOSK_NOT_ALLOWED');
  });

  it('locks a customer after 5 wrong PINs for 15 minutes, reports it to the cloud, and a right PIN resets the count', async () => {
    const sessions = service();
    const phone = '+254700000102';
    const first = await sessions.authorise(request(phone, 1000, '9999'), 'D1');
    expect(first).toMatchObject({ approved: false, reason: 'WRONG_PIN', attempts_left: 4 });
    expect(await denial(sessions, request(phone, 1000, '1234'))).toBeNull();
    await sessions.complete({ ...lastSession(), delivered_ml: 0 }, 'D1');
    for (let i = 0; i < 4; i++) expect(await denial(sessions, request(phone, 1000, '0000'))).toBe('WRONG_PIN');
    expect(await denial(sessions, request(phone, 1000, '0000'))).toBe('LOCKED_OUT');
    expect(await denial(sessions, request(phone, 1000, '1234'))).toBe('LOCKED_OUT');
    expect(store.ledger.eventsFor('TSF000102').filter((e) => e.type === 'pin_lockout')).toHaveLength(1);
    clock += 15 * 60_000 + 1;
    expect(await denial(sessions, request(phone, 1000, '1234'))).toBeNull();
  });

  it('reads local number forms in the kiosk country, and full numbers from anywhere', async () => {
    const ugandan = await addCustomer({ phone: '+256772123456' });
    expect(await denial(service({ phoneRegion: 'UG' }), request('0772 123 456'), null)).toBeNull();
    expect(await denial(service(), request('0772123456'), null)).toBe('UNKNOWN_CUSTOMER');
    expect(await denial(service(), request('256772123456'), null)).toBeNull();
    expect(ugandan).toBe('+256772123456');
  });

  it('respects a lockout the cloud published', async () => {
    const locked = await addCustomer({ locked_until: clock + 60_000 });
    expect(await denial(service(), request(locked))).toBe('LOCKED_OUT');
  });

  it('denies more than the available balance, counting holds', async () => {
    const sessions = service();
    expect(await denial(sessions, request('+254700000103', 20_001), null)).toBe('INSUFFICIENT_BALANCE');
    expect(await denial(sessions, request('+254700000103', 15_000), 'D1')).toBeNull();
    expect(await denial(sessions, request('+254700000103', 6000), 'D2')).toBe('INSUFFICIENT_BALANCE');
  });

  it('applies the daily limit over the kiosk local day, and the offline limit when the cloud is out of reach', async () => {
    const limited = await addCustomer({ daily_limit_ml: 6000 });
    const sessions = service({ offlineDailyLimitMl: 3000, offlineAfterMs: 60_000 });
    expect(await denial(sessions, request(limited, 7000))).toBe('DAILY_LIMIT');
    clock += 61_000; // no cloud contact for longer than offlineAfterMs
    expect(await denial(sessions, request('+254700000104', 4000))).toBe('OFFLINE_LIMIT');
    expect(await denial(sessions, request('+254700000104', 3000))).toBeNull();
  });

  it('checks interlocks, disabled and busy dispensers before anything else', async () => {
    const sessions = service();
    const remove = interlocks.add(() => 'TANK_LOW');
    expect(await denial(sessions, request('+254700000101'))).toBe('TANK_LOW');
    remove();
    expect(await denial(sessions, request('+254700000101', 1000))).toBeNull();
    expect(await denial(sessions, request('+254700000102', 1000))).toBe('DISPENSER_BUSY');
    const config = store.dispensers.get('D2')!.config;
    store.dispensers.setConfig('D2', { ...config, enabled: false });
    expect(await denial(sessions, request('+254700000102', 1000), 'D2')).toBe('DISPENSER_DISABLED');
    expect(await denial(sessions, request('+254700000102', 1000), 'D9')).toBe('DISPENSER_DISABLED');
  });
});

function lastSession() {
  const row = store.db
    .prepare<[], { session_id: string; request_id: string }>(
      'SELECT session_id, request_id FROM holds ORDER BY created_at DESC LIMIT 1',
    )
    .get();
  if (!row) throw new Error('no session');
  return row;
}

describe('a customer whose balance this kiosk does not follow', () => {
  /** The cloud's answers, as sync's lookup gives them: written to the replica. */
  function withCloud(sessions: DispenseFlow, answer: (accountId: string) => CustomerRecord | null): string[] {
    const asked: string[] = [];
    sessions.useCustomerLookup(async (accountId) => {
      asked.push(accountId);
      const record = answer(accountId);
      if (record) store.applyCustomerRecords([record]);
      return record;
    });
    return asked;
  }

  it('is authorised against the balance the cloud gives; once served here, followed', async () => {
    // The replica's balance is stale: the cloud has 30 L since a top-up this kiosk did not write.
    const phone = await addCustomer({ balance_ml: 0 });
    const sessions = service();
    const stored = store.customers.findByAccount('TSF000199') as CustomerRecord;
    const asked = withCloud(sessions, () => ({ ...stored, balance_ml: 30_000, version: 2 }));
    expect(await denial(sessions, request(phone, 30_001), null)).toBe('INSUFFICIENT_BALANCE');
    expect(await sessions.authoriseAndRecord(request(phone, 25_000))).toMatchObject({ response: { approved: true } });
    expect(asked).toEqual(['TSF000199', 'TSF000199']);
    // Its ledger now has the customer: their balance is followed, and not asked about again.
    expect(await denial(sessions, request(phone, 5_001), null)).toBe('INSUFFICIENT_BALANCE');
    expect(asked).toHaveLength(2);
  });

  it('a customer served here lately, or allowed here by name, is not asked about', async () => {
    const allowedHere = await addCustomer({ allowed_kiosks: [KIOSK, 'K2'] });
    const sessions = service({ followCustomersMs: 86_400_000 });
    const asked = withCloud(sessions, () => null);
    expect(await denial(sessions, request(allowedHere, 20_001), null)).toBe('INSUFFICIENT_BALANCE');
    await sessions.authoriseAndRecord(request('+254700000103', 1000));
    expect(asked).toEqual(['TSF000103']);
    clock += 86_400_000;
    expect(await denial(sessions, request('+254700000103', 19_001), null)).toBe('INSUFFICIENT_BALANCE');
    expect(asked).toHaveLength(1);
    clock += 1; // a day after: asked again
    store.setLastCloudContact(clock);
    await denial(sessions, request('+254700000103', 1000), null);
    expect(asked).toHaveLength(2);
  });

  it('when the cloud cannot answer, or the kiosk is offline, draws within the offline daily limit alone', async () => {
    const phone = await addCustomer({ balance_ml: 0 });
    const sessions = service({ offlineDailyLimitMl: 3000, offlineAfterMs: 60_000 });
    const asked = withCloud(sessions, () => null);
    expect(await denial(sessions, request(phone, 3001), null)).toBe('OFFLINE_LIMIT');
    expect(await denial(sessions, request(phone, 2000), null)).toBeNull();
    expect(asked).toEqual(['TSF000199', 'TSF000199']);
    clock += 61_000; // offline: the cloud is not asked
    expect(await denial(sessions, request(phone, 1001), null)).toBe('OFFLINE_LIMIT');
    expect(await denial(sessions, request(phone, 1000), null)).toBeNull();
    expect(asked).toHaveLength(2);
  });

  it('is still refused what the balance has nothing to do with', async () => {
    const phone = await addCustomer({ status: 'suspended' });
    const sessions = service();
    withCloud(sessions, () => null);
    expect(await denial(sessions, request(phone), null)).toBe('ACCOUNT_INACTIVE');
    expect(await denial(sessions, request('+254700000103', 1000, '9999'), null)).toBe('WRONG_PIN');
  });
});

describe('daily limit across kiosks', () => {
  const TODAY = '2026-01-15'; // the test clock's day in Nairobi
  const account = 'TSF000199';

  async function draw(sessions: DispenseFlow, phone: string, ml: number): Promise<void> {
    const approved = await sessions.authorise(request(phone, ml), 'D1');
    if (!approved.approved) throw new Error(`expected approval, got ${approved.reason}`);
    await sessions.complete(
      { session_id: approved.session_id, request_id: approved.request_id, delivered_ml: ml },
      'D1',
    );
  }

  it('counts what the cloud says was drawn today at other kiosks', async () => {
    const phone = await addCustomer({ daily_limit_ml: 5000, usage_day: TODAY, used_today_ml: 3000 });
    const sessions = service();
    expect(await denial(sessions, request(phone, 2001))).toBe('DAILY_LIMIT');
    expect(await denial(sessions, request(phone, 2000), 'D2')).toBeNull();
    // A newer record from a pull moves the figure.
    const record = store.customers.findByAccount(account)!;
    store.applyCustomerRecords([{ ...record, used_today_ml: 1000, version: 2 }]);
    expect(await denial(sessions, request(phone, 2000), 'D3')).toBeNull();
  });

  it('ignores a figure of an earlier day: usage starts afresh at midnight', async () => {
    const phone = await addCustomer({ daily_limit_ml: 5000, usage_day: '2026-01-14', used_today_ml: 5000 });
    expect(await denial(service(), request(phone, 5000))).toBeNull();
  });

  it('counts its own dispense once, whether the cloud has acknowledged it or not', async () => {
    const phone = await addCustomer({ daily_limit_ml: 6000, balance_ml: 20_000 });
    const sessions = service();
    await draw(sessions, phone, 2000);
    expect(await denial(sessions, request(phone, 4001))).toBe('DAILY_LIMIT');
    const [event] = store.unacknowledgedEvents(100);
    // The push answer: this kiosk's 2 L merged with 1 L drawn at another kiosk meanwhile.
    store.acknowledgeEvents(
      [event!.event_id],
      [{ account_id: account, balance_ml: 17_000, version: 3, usage_day: TODAY, used_today_ml: 3000 }],
    );
    expect(await denial(sessions, request(phone, 3001))).toBe('DAILY_LIMIT');
    expect(await denial(sessions, request(phone, 3000), 'D2')).toBeNull();
  });

  it('never counts less than its own dispenses today, even from a cloud that publishes no figure', async () => {
    const phone = await addCustomer({ daily_limit_ml: 6000 });
    const sessions = service();
    await draw(sessions, phone, 4000);
    const [event] = store.unacknowledgedEvents(100);
    store.acknowledgeEvents([event!.event_id], [{ account_id: account, balance_ml: 16_000, version: 2 }]);
    expect(await denial(sessions, request(phone, 2001))).toBe('DAILY_LIMIT');
    expect(await denial(sessions, request(phone, 2000), 'D2')).toBeNull();
  });

  it('keeps the offline daily limit per kiosk', async () => {
    const phone = await addCustomer({ usage_day: TODAY, used_today_ml: 5000 });
    const sessions = service({ offlineDailyLimitMl: 3000, offlineAfterMs: 60_000 });
    clock += 61_000;
    expect(await denial(sessions, request(phone, 3001))).toBe('OFFLINE_LIMIT');
    expect(await denial(sessions, request(phone, 3000))).toBeNull();
  });
});

describe('dispense sessions', () => {
  it('approval holds credit; completion writes one event, releases the hold and sets the balance', async () => {
    const sessions = service();
    const recorded: unknown[] = [];
    events.on('dispense-recorded', (e) => recorded.push(e));
    const approved = await sessions.authorise(request('+254700000101', 5000), 'D1');
    if (!approved.approved) throw new Error('expected approval');
    expect(approved.balance_ml).toBe(15_000);
    const report = {
      session_id: approved.session_id,
      request_id: approved.request_id,
      delivered_ml: 4800,
      pulses: 2160,
      end_reason: 'cancelled' as const,
      ended_at: clock,
    };
    const ack = await sessions.complete(report, 'D1');
    expect(ack).toMatchObject({ recorded_ml: 4800, balance_ml: 15_200 });
    expect(await sessions.complete(report, 'D1')).toEqual(ack);
    expect(store.ledger.eventsFor('TSF000101')).toEqual([
      expect.objectContaining({
        type: 'dispense',
        amount_ml: -4800,
        source_id: approved.session_id,
        event_id: ack.event_id,
        dispenser_id: 'D1',
      }),
    ]);
    expect(recorded).toHaveLength(1);
  });

  it('keeps only open holds: a settled session is found again through its ledger event', async () => {
    const sessions = service();
    const heldRows = () => store.db.prepare('SELECT count(*) FROM holds').pluck().get();
    const approved = await sessions.authorise(request('+254700000101', 5000), 'D1');
    if (!approved.approved) throw new Error('expected approval');
    expect(heldRows()).toBe(1);
    clock += 30_000;
    const report = { session_id: approved.session_id, request_id: approved.request_id, delivered_ml: 4500 };
    const ack = await sessions.complete(report, 'D1');
    // The completion writes only the event (no page of holds): the row goes at the next approval.
    expect(heldRows()).toBe(1);
    expect(store.holds.heldMlFor('TSF000101', clock)).toBe(0);
    expect(store.holds.openHoldOn('D1', clock)).toBeUndefined();
    // Read back from the dispense event, which keeps no approval time: the times read as the settlement's.
    expect(store.holds.find(approved.session_id)).toEqual({
      session_id: approved.session_id,
      request_id: approved.request_id,
      dispenser_id: 'D1',
      account_id: 'TSF000101',
      approved_ml: 5000,
      created_at: clock,
      hold_expires_at: clock,
      settled_at: clock,
      event_id: ack.event_id,
      delivered_ml: 4500,
    });

    // After a restart too, a repeat is acknowledged with the same event; another dispenser is refused.
    store.close();
    store = Store.open(dir);
    const again = service();
    expect(await again.complete(report, 'D1')).toEqual(ack);
    await expect(again.complete(report, 'D2')).rejects.toMatchObject({ code: 'SESSION_MISMATCH' });
    await expect(again.complete({ ...report, request_id: newId() }, 'D1')).rejects.toMatchObject({
      code: 'SESSION_MISMATCH',
    });
    expect(store.ledger.eventsFor('TSF000101')).toHaveLength(1);
    await again.authorise(request('+254700000102', 1000), 'D1');
    expect(heldRows()).toBe(1);
  });

  it('holds nothing after a seed-compatible dispense, recorded at approval', async () => {
    const { response, ack } = await service().authoriseAndRecord(request('+254700000101', 2000));
    if (!response.approved || !ack) throw new Error('expected approval and record');
    expect(store.holds.heldMlFor('TSF000101', clock)).toBe(0);
    expect(store.holds.find(response.session_id)).toMatchObject({
      dispenser_id: null,
      event_id: ack.event_id,
      delivered_ml: 2000,
    });
  });

  it('answers a repeated request identically and holds once', async () => {
    const sessions = service();
    const req = request('+254700000101', 5000);
    const [a, b] = await Promise.all([sessions.authorise(req, 'D1'), sessions.authorise(req, 'D1')]);
    const c = await sessions.authorise(req, 'D1');
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(store.holds.heldMlFor('TSF000101', clock)).toBe(5000);
    expect(await sessions.authorise(req, 'D2')).toMatchObject({ approved: false, reason: 'INVALID_REQUEST' });
  });

  it('keeps an approval as its session alone, under the request id, and answers a repeat from it', async () => {
    const sessions = service();
    const req = request('+254700000101', 5000);
    const approved = await sessions.authorise(req, 'D1');
    expect(approved).toMatchObject({ approved: true, session_id: req.request_id });
    // One page fewer a dispense: no decision row beside the hold (SD-card wear).
    expect(store.db.prepare('SELECT count(*) FROM auth_decisions').pluck().get()).toBe(0);
    // After a restart, and after the session settled, a repeat still gets its approval back.
    store.close();
    store = Store.open(dir);
    const again = service();
    expect(await again.authorise(req, 'D1')).toEqual(approved);
    if (!approved.approved) throw new Error('expected approval');
    await again.complete({ session_id: approved.session_id, request_id: req.request_id, delivered_ml: 5000 }, 'D1');
    expect(await again.authorise(req, 'D1')).toMatchObject({
      approved: true,
      session_id: approved.session_id,
      approved_ml: 5000,
    });
    expect(store.holds.heldMlFor('TSF000101', clock)).toBe(0);
    expect(await again.authorise(req, 'D2')).toMatchObject({ approved: false, reason: 'INVALID_REQUEST' });
  });

  it('expires a silent hold, yet settles a late completion exactly once', async () => {
    const sessions = service();
    const approved = await sessions.authorise(request('+254700000101', 5000), 'D1');
    if (!approved.approved) throw new Error('expected approval');
    clock = approved.hold_expires_at + 1;
    expect(store.holds.heldMlFor('TSF000101', clock)).toBe(0);
    expect(await denial(sessions, request('+254700000102', 1000))).toBeNull();
    const report = { session_id: approved.session_id, request_id: approved.request_id, delivered_ml: 5000 };
    const ack = await sessions.complete(report, 'D1');
    expect((await sessions.complete(report, 'D1')).event_id).toBe(ack.event_id);
    expect(store.ledger.eventsFor('TSF000101')).toHaveLength(1);
    expect(store.ledger.eventsFor('TSF000101')[0]?.details).toMatchObject({ settled_after_hold_expiry: true });
  });

  it('records more water than approved within the tolerance, flagged', async () => {
    const sessions = service({ overDeliveryToleranceMl: 200 });
    const approved = await sessions.authorise(request('+254700000101', 1000), 'D1');
    if (!approved.approved) throw new Error('expected approval');
    const ack = await sessions.complete(
      { session_id: approved.session_id, request_id: approved.request_id, delivered_ml: 1100 },
      'D1',
    );
    expect(ack.recorded_ml).toBe(1100);
    expect(store.ledger.eventsFor('TSF000101')[0]).toMatchObject({
      amount_ml: -1100,
      details: { over_delivered: true },
    });
  });

  it('charges at most approved + tolerance and flags what a dispenser claims beyond it', async () => {
    const recorded: DispenseRecorded[] = [];
    events.on('dispense-recorded', (r) => recorded.push(r));
    const sessions = service({ overDeliveryToleranceMl: 200 });
    const approved = await sessions.authorise(request('+254700000101', 1000), 'D1');
    if (!approved.approved) throw new Error('expected approval');
    const ack = await sessions.complete(
      { session_id: approved.session_id, request_id: approved.request_id, delivered_ml: 20_000 },
      'D1',
    );
    expect(ack.recorded_ml).toBe(1200);
    expect(store.ledger.eventsFor('TSF000101')[0]).toMatchObject({
      amount_ml: -1200,
      details: { over_delivered: true, reported_ml: 20_000, excess_ml: 18_800 },
    });
    expect(recorded).toMatchObject([{ over_delivered: true, excess_ml: 18_800 }]);
  });

  it('keeps a refused completion once for the technician and tells the dispenser', async () => {
    const refused: unknown[] = [];
    events.on('completion-refused', (r) => refused.push(r));
    const sessions = service();
    const report = {
      session_id: newId(),
      request_id: newId(),
      delivered_ml: 3000,
      pulses: 1350,
      end_reason: 'power_loss' as const,
      ended_at: 1_764_000_000_000,
    };
    expect(await sessions.refuse(report, 'D1', 'UNKNOWN_SESSION')).toEqual({
      session_id: report.session_id,
      refused: 'UNKNOWN_SESSION',
    });
    await sessions.refuse(report, 'D1', 'UNKNOWN_SESSION');
    expect(store.refusedCompletions.forDispenser('D1')).toMatchObject([{ ...report, reason: 'UNKNOWN_SESSION' }]);
    expect(refused).toHaveLength(1);
  });

  it("keeps only each dispenser's newest refused completions, so a hostile one cannot fill the disk", async () => {
    const sessions = service({ refusedCompletionsPerDispenser: 3 });
    const report = () => ({
      session_id: newId(),
      request_id: newId(),
      delivered_ml: 1000,
      pulses: 450,
      end_reason: 'target_reached' as const,
      ended_at: 1_764_000_000_000,
    });
    const other = report();
    await sessions.refuse(other, 'D2', 'UNKNOWN_SESSION');
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = report();
      sent.push(r.session_id);
      await sessions.refuse(r, 'D1', 'UNKNOWN_SESSION');
    }
    const kept = store.refusedCompletions.forDispenser('D1', 100).map((c) => c.session_id);
    expect(kept.sort()).toEqual(sent.slice(2).sort());
    expect(store.refusedCompletions.forDispenser('D2')).toMatchObject([{ session_id: other.session_id }]);
  });

  it('refuses completions for unknown sessions or from another dispenser', async () => {
    const sessions = service();
    await expect(
      sessions.complete({ session_id: newId(), request_id: newId(), delivered_ml: 1 }, 'D1'),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_SESSION',
    });
    const approved = await sessions.authorise(request('+254700000101', 1000), 'D1');
    if (!approved.approved) throw new Error('expected approval');
    await expect(
      sessions.complete({ session_id: approved.session_id, request_id: approved.request_id, delivered_ml: 1 }, 'D2'),
    ).rejects.toMatchObject({
      code: 'SESSION_MISMATCH',
    });
  });

  it('never includes the PIN in the authorisation feed', async () => {
    const feed: unknown[] = [];
    events.on('authorisation', (o) => feed.push(o));
    await service().authorise(request('+254700000101', 1000, '4321'), 'D1');
    expect(JSON.stringify(feed)).not.toMatch(secretToken('4321'));
  });
});

describe('sync seams', () => {
  it('lists unacknowledged events, and acknowledging them with the cloud balance keeps the available balance', async () => {
    const sessions = service();
    const approved = await sessions.authorise(request('+254700000101', 2000), 'D1');
    if (!approved.approved) throw new Error('expected approval');
    await sessions.complete(
      { session_id: approved.session_id, request_id: approved.request_id, delivered_ml: 2000 },
      'D1',
    );
    const pending = store.unacknowledgedEvents(100);
    expect(pending).toHaveLength(1);
    const customer = () => store.customers.findByAccount('TSF000101')!;
    expect(store.availableBalanceMl(customer(), clock)).toBe(18_000);
    store.acknowledgeEvents([pending[0]!.event_id], [{ account_id: 'TSF000101', balance_ml: 18_000, version: 5 }]);
    expect(store.unacknowledgedEvents(100)).toEqual([]);
    expect(store.availableBalanceMl(customer(), clock)).toBe(18_000);
  });

  it('applies customer pages by version: older pages change nothing', async () => {
    const base = store.customers.findByAccount('TSF000101')!;
    expect(store.applyCustomerRecords([{ ...base, balance_ml: 50_000, version: 3 }])).toBe(1);
    expect(store.applyCustomerRecords([{ ...base, balance_ml: 1, version: 2 }])).toBe(0);
    expect(store.customers.findByAccount('TSF000101')).toMatchObject({ balance_ml: 50_000, version: 3 });
    expect(() => store.applyCustomerRecords([{ ...base, phone: 'nope' }])).toThrow();
  });
});
