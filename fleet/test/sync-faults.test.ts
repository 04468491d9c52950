import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshPglite } from '@tusafishe/cloud/testing';
import { recordAdjustment, createCustomer, findCustomer, balanceDrift } from '@tusafishe/cloud';
import { TOKEN_OUTCOMES } from '@tusafishe/protocol';
import { dispenserCounters, startFleet, type Fleet, type FleetKiosk } from '../src/fleet.js';
import {
  readGatewayBalances,
  readGatewayEventIds,
  readGatewayFollowed,
  readGatewayHolds,
} from '../src/gateway-replica.js';
import { buyWater, redeemToken } from '../src/keypad-customer.js';
import { SeededRandom } from '../src/seeded-random.js';

/**
 * Fault injection over the real fleet: the real cloud (embedded Postgres), four real gateway
 * processes each reaching the cloud only through a partition proxy, two simulated dispensers
 * per gateway doing real dispenses over MQTT. Links are cut, delayed and restored and gateways
 * SIGKILLed at random points drawn from a seeded RNG (FLEET_SEED=<seed> replays a schedule).
 * A top-up paid while kiosks are cut off reaches two of them as the SMS's keypad token; one is
 * SIGKILLed and the other cut off again just as their push reaches the cloud.
 */
const SEED = Number(process.env['FLEET_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const KIOSKS = ['K1', 'K2', 'K3', 'K4'];
const DISPENSERS = ['D1', 'D2'];
const OFFLINE_LIMIT_ML = 6_000;
const WANDERER_START_ML = 15_000;
const SHOPPER_START_ML = 1_000_000;
const TOKEN_HOLDER_START_ML = 1_000;
const CHAOS_PHASE_MS = 35_000;
const PIN = '1234';
/** KES 10.00 at the default Kenyan tariff (KES 5 per 20 L): 40 L, collected by M-Pesa (Safaricom numbers). */
const PAYMENT_MINOR = 1_000;
const PAYMENT_ML = 40_000;

interface Shopper {
  accountId: string;
  keypadPhone: string;
  pin: string;
}

const counts = {
  dispense_events: 0,
  dispenses: 0,
  denials: 0,
  no_answer: 0,
  payments: 0,
  kills: 0,
  cuts: 0,
  delays: 0,
  events: 0,
};
const rng = new SeededRandom(SEED);
let dir: string;
let fleet: Fleet;
let shoppers: Shopper[];
let wanderer: Shopper;
/** Tops up while kiosks are cut off, and brings the credit to two of them as a keypad token. */
let tokenHolder: Shopper;

/** expect.poll's options: generous (a loaded machine delivers events late), and the seed in the message. */
const polling = (what: string, timeout = 30_000) => ({ timeout, interval: 200, message: `${what} (seed ${SEED})` });

async function newShopper(n: number, phonePrefix: string, startMl: number): Promise<Shopper> {
  const local = `${phonePrefix}${String(n).padStart(2, '0')}`;
  const customer = await createCustomer(fleet.cloud.db, {
    phone: `+254${local.slice(1)}`,
    name: `Shopper ${local}`,
    pin: PIN,
  });
  await recordAdjustment(fleet.cloud.db, {
    accountId: customer.account_id,
    amountMl: startMl,
    reason: 'opening credit',
    operator: 'fleet-test',
  });
  return { accountId: customer.account_id, keypadPhone: local, pin: PIN };
}

async function cloudBalances(): Promise<Map<string, number>> {
  const rows = await fleet.cloud.db.query<{ account_id: string; balance_ml: number }>(
    'SELECT account_id, balance_ml FROM customers',
  );
  return new Map(rows.map((row) => [row.account_id, Number(row.balance_ml)]));
}

const confirmedPayments: string[] = [];

/**
 * A mobile-money top-up through the cloud's payment path and the M-Pesa simulator (the shoppers
 * have Safaricom numbers): the customer approves the STK push (callback delivered, lost, or
 * replayed twice) or declines it on the phone.
 */
async function pay(shopper: Shopper, own: SeededRandom): Promise<void> {
  const customer = await findCustomer(fleet.cloud.db, shopper.accountId);
  const { paymentId, provider } = await fleet.cloud.payments.start(customer!, PAYMENT_MINOR);
  const wallet = fleet.cloud.simulators![provider.name];
  const pending = [...wallet.payments.values()].find(
    (p) => p.status === 'PENDING' && p.msisdn === customer!.phone.slice(1),
  );
  if (!pending) throw new Error(`no pending simulator payment for ${customer!.phone}`);
  const choice = own.int(0, 9);
  if (choice < 2) {
    await wallet.decide(pending.reference, false);
    return;
  }
  await wallet.decide(pending.reference, true, choice < 5 ? 'lose' : 'send');
  if (choice >= 8)
    await Promise.all([wallet.replayCallback(pending.reference), wallet.replayCallback(pending.reference)]);
  confirmedPayments.push(paymentId);
  counts.payments += 1;
}

/** Keeps a dispenser busy with random customers and volumes until `stop` aborts. */
async function shopLoop(kiosk: FleetKiosk, dispenserId: string, stop: AbortSignal, seed: number): Promise<void> {
  const own = new SeededRandom(seed);
  const dispenser = kiosk.dispensers.get(dispenserId)!;
  while (!stop.aborted) {
    try {
      const outcome = await buyWater(dispenser, own.pick(shoppers), own.int(1, 3), 15_000);
      if (outcome.kind === 'dispensed') counts.dispenses += 1;
      else if (outcome.kind === 'denied') counts.denials += 1;
      else counts.no_answer += 1;
    } catch {
      counts.no_answer += 1; // gateway down or restarting: the dispenser says so; try again
    }
  }
}

/**
 * A top-up by M-Pesa while kiosks are cut off, approved with its callback delivered: the keypad
 * token its SMS carries, as the customer reads it.
 */
async function payWhileCutOff(shopper: Shopper): Promise<string> {
  const customer = (await findCustomer(fleet.cloud.db, shopper.accountId))!;
  const { paymentId, provider } = await fleet.cloud.payments.start(customer, PAYMENT_MINOR);
  const wallet = fleet.cloud.simulators![provider.name];
  const pending = [...wallet.payments.values()].find(
    (p) => p.status === 'PENDING' && p.msisdn === customer.phone.slice(1),
  );
  await wallet.decide(pending!.reference, true, 'send');
  confirmedPayments.push(paymentId);
  counts.payments += 1;
  return vi.waitFor(async () => {
    const [sms] = await fleet.cloud.db.query<{ message: string }>(
      'SELECT message FROM sms_outbox WHERE phone = $1 ORDER BY id DESC LIMIT 1',
      [customer.phone],
    );
    const token = /# then (\d{5} \d{5} \d{5}) #/.exec(sms?.message ?? '');
    expect(token, `a keypad token in the credit SMS (seed ${SEED})`).not.toBeNull();
    return token![1]!.replaceAll(' ', '');
  }, polling('the credit SMS'));
}

/** The event id the cloud gave the shopper's (only) keypad token. */
async function issuedTokenEventId(shopper: Shopper): Promise<string> {
  const [issued] = await fleet.cloud.db.query<{ event_id: string }>(
    'SELECT event_id::text AS event_id FROM keypad_tokens WHERE account_id = $1',
    [shopper.accountId],
  );
  return issued!.event_id;
}

async function killAndRestart(kiosk: FleetKiosk): Promise<void> {
  await kiosk.gateway.kill();
  counts.kills += 1;
  await kiosk.gateway.start();
}

/** Runs `fault` the moment the cloud has recorded the kiosk's push of the token's credit. */
async function faultAtPush(kiosk: FleetKiosk, fault: () => Promise<void>): Promise<void> {
  await expect
    .poll(
      async () =>
        (
          await fleet.cloud.db.query<{ redeemed_kiosks: string[] }>(
            'SELECT redeemed_kiosks FROM keypad_tokens WHERE account_id = $1',
            [tokenHolder.accountId],
          )
        )[0]?.redeemed_kiosks ?? [],
      polling(`${kiosk.id} pushing the token's credit`, 90_000),
    )
    .toContain(kiosk.id);
  await fault();
}

/** Random faults, one at a time, on the kiosks `targets` allows, until `stop` aborts. */
async function faultLoop(
  targets: () => { kiosk: FleetKiosk; actions: ('kill' | 'cut' | 'delay')[] }[],
  stop: AbortSignal,
): Promise<void> {
  while (!stop.aborted) {
    await sleep(rng.int(500, 2500));
    const { kiosk, actions } = rng.pick(targets());
    const action = rng.pick(actions);
    if (action === 'kill') {
      await kiosk.gateway.kill();
      counts.kills += 1;
      await sleep(rng.int(100, 2000));
      await kiosk.gateway.start();
    } else if (action === 'cut') {
      kiosk.proxy.cut();
      counts.cuts += 1;
      await sleep(rng.int(500, 5000));
      kiosk.proxy.restore();
    } else {
      kiosk.proxy.delay(rng.int(50, 1500));
      counts.delays += 1;
      await sleep(rng.int(500, 4000));
      kiosk.proxy.restore();
    }
  }
}

beforeAll(async () => {
  process.stdout.write(`fleet fault suite: seed ${SEED} (replay with FLEET_SEED=${SEED})\n`);
  dir = mkdtempSync(join(tmpdir(), 'tusafishe-fleet-'));
  fleet = await startFleet({
    dir,
    kioskIds: KIOSKS,
    dispenserIds: DISPENSERS,
    gatewayEnv: {
      OFFLINE_AFTER_S: '20',
      HW_MODE: 'off',
      OFFLINE_DAILY_LIMIT_ML: String(OFFLINE_LIMIT_ML),
      LOG_LEVEL: 'info',
    },
    flowRateMlPerSecond: 4000,
    cloud: {
      ...freshPglite(),
      simulators: {},
      providers: {
        fallback: 'mtn',
        statusPollIntervalMs: 500,
        timing: { checkBackoffMs: 500, maxCheckIntervalMs: 2_000 },
      },
    },
  });
  shoppers = [];
  for (let n = 1; n <= 6; n++) shoppers.push(await newShopper(n, '07100000', SHOPPER_START_ML));
  wanderer = await newShopper(1, '07110000', WANDERER_START_ML);
  tokenHolder = await newShopper(1, '07120000', TOKEN_HOLDER_START_ML);
  const expected = await cloudBalances();
  for (const kiosk of fleet.kiosks) {
    await vi.waitFor(
      () =>
        expect(
          readGatewayBalances(kiosk.gateway.dataDir, [...expected.keys()]),
          `${kiosk.id} replica (seed ${SEED})`,
        ).toEqual(expected),
      polling(`${kiosk.id} replica`),
    );
  }
}, 180_000);

afterAll(async () => {
  await fleet?.close();
  if (dir && !process.env['FLEET_KEEP']) rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`fleet fault suite counts (seed ${SEED}): ${JSON.stringify(counts)}\n`);
});

describe('sync under partitions, SIGKILLs and duplicates', () => {
  it('counts every dispense and credit exactly once, bounds offline spending, and converges after heal', async () => {
    const [online, ...cutOff] = fleet.kiosks as [FleetKiosk, ...FleetKiosk[]];

    // Phase 1: three kiosks lose the cloud long enough for the offline limit to apply;
    // everyone keeps shopping, and the connected kiosk suffers random faults meanwhile.
    for (const kiosk of cutOff) {
      kiosk.proxy.cut();
      counts.cuts += 1;
    }
    const token = await payWhileCutOff(tokenHolder);
    const shopping = new AbortController();
    const shops = fleet.kiosks.flatMap((kiosk, k) =>
      DISPENSERS.filter((id) => !(cutOff.includes(kiosk) && id === 'D1')).map((id, d) =>
        shopLoop(kiosk, id, shopping.signal, SEED + 10 * k + d),
      ),
    );
    let phase1Targets = [
      { kiosk: online, actions: ['kill', 'cut', 'delay'] as ('kill' | 'cut' | 'delay')[] },
      ...cutOff.map((kiosk) => ({ kiosk, actions: ['kill'] as ('kill' | 'cut' | 'delay')[] })),
    ];
    const phase1 = new AbortController();
    const phase1Faults = faultLoop(() => phase1Targets, phase1.signal);
    for (const kiosk of cutOff) {
      await expect
        .poll(
          async () => (await kiosk.syncStatus()).offline_limit_active,
          polling(`${kiosk.id} offline limit`, 100_000),
        )
        .toBe(true);
    }

    // The same customer at each cut-off kiosk: the offline limit at each, and not a drop more.
    phase1Targets = phase1Targets.slice(0, 1);
    for (const kiosk of cutOff) {
      const d1 = kiosk.dispensers.get('D1')!;
      // A gateway SIGKILLed in phase 1 restarts (node, tsx, its imports) in minutes on a loaded machine.
      await expect
        .poll(() => kiosk.gateway.running && d1.connected, polling(`${kiosk.id} back up`, 150_000))
        .toBe(true);
      const full = await buyWater(d1, wanderer, OFFLINE_LIMIT_ML / 1000);
      expect(full.kind, `${kiosk.id}: ${JSON.stringify(full)}`).toBe('dispensed');
      const more = await buyWater(d1, wanderer, 1);
      expect(more, `${kiosk.id}: ${JSON.stringify(more)} ${JSON.stringify(await kiosk.syncStatus())}`).toMatchObject({
        kind: 'denied',
        reason: expect.stringMatching(/^Offline limit/),
      });
      counts.dispenses += 1;
      counts.denials += 1;
    }

    // The top-up the cloud took meanwhile, typed from the SMS at two cut-off kiosks: credited at
    // each at once (bounded by the offline limit), refused the second time; the first kiosk is
    // SIGKILLed the moment its LCD has answered.
    const [first, second] = cutOff as [FleetKiosk, FleetKiosk, ...FleetKiosk[]];
    const firstD1 = first.dispensers.get('D1')!;
    expect(await redeemToken(firstD1, tokenHolder.keypadPhone, token)).toContain(TOKEN_OUTCOMES.ADDED);
    expect(await redeemToken(firstD1, tokenHolder.keypadPhone, token)).toContain(TOKEN_OUTCOMES.USED);
    const firstRestarted = killAndRestart(first);
    expect(await redeemToken(second.dispensers.get('D1')!, tokenHolder.keypadPhone, token)).toContain(
      TOKEN_OUTCOMES.ADDED,
    );
    await firstRestarted;
    phase1.abort();
    await phase1Faults;

    // Phase 2: links return; random cuts, delays and SIGKILLs everywhere while credit arrives.
    // The kiosks that took the token are SIGKILLed or cut off again the moment the cloud has their
    // push (so its answer may never reach them); random faults leave them alone until then.
    for (const kiosk of cutOff) kiosk.proxy.restore();
    const phase2 = new AbortController();
    const scripted = new Set([first, second]);
    const atPush = (kiosk: FleetKiosk, fault: () => Promise<void>) =>
      faultAtPush(kiosk, fault).finally(() => scripted.delete(kiosk));
    const pushFaults = Promise.all([
      atPush(first, () => killAndRestart(first)),
      atPush(second, async () => {
        second.proxy.cut();
        counts.cuts += 1;
        await sleep(new SeededRandom(SEED + 2000).int(500, 3000));
        second.proxy.restore();
      }),
    ]);
    const phase2Targets = () =>
      fleet.kiosks
        .filter((kiosk) => !scripted.has(kiosk))
        .map((kiosk) => ({ kiosk, actions: ['kill', 'cut', 'delay'] as ('kill' | 'cut' | 'delay')[] }));
    const phase2Faults = faultLoop(phase2Targets, phase2.signal);
    const credits = (async () => {
      const own = new SeededRandom(SEED + 1000);
      while (!phase2.signal.aborted) {
        await sleep(own.int(300, 1500));
        await pay(own.pick(shoppers), own);
      }
    })();
    await sleep(CHAOS_PHASE_MS);
    phase2.abort();
    await Promise.all([phase2Faults, credits, pushFaults]);

    // Heal: every link up, every gateway running, shoppers finish what they started.
    shopping.abort();
    await Promise.all(shops);
    for (const kiosk of fleet.kiosks) {
      kiosk.proxy.restore();
      if (!kiosk.gateway.running) await kiosk.gateway.start();
    }
    for (const kiosk of fleet.kiosks) {
      for (const [id, dispenser] of kiosk.dispensers) {
        await expect
          .poll(
            () => dispenserCounters(kiosk.dispenserDataDir(id)).pending === 0 && dispenser.state === 'idle',
            polling(`${kiosk.id}/${id} settled`),
          )
          .toBe(true);
      }
      await expect
        .poll(async () => (await kiosk.syncStatus()).events_waiting, polling(`${kiosk.id} pushed everything`))
        .toBe(0);
    }

    // Every drop the dispensers measured is in the cloud, and every dispense event each gateway
    // recorded is there exactly once (no loss, no duplicate, nothing invented).
    const cloudDispenses = await fleet.cloud.db.query<{
      event_id: string;
      kiosk_id: string;
      dispenser_id: string;
      amount_ml: number;
      source_id: string;
    }>(
      `SELECT event_id::text AS event_id, kiosk_id, dispenser_id, amount_ml, source_id FROM ledger_events WHERE type = 'dispense'`,
    );
    counts.dispense_events = cloudDispenses.length;
    expect(new Set(cloudDispenses.map((e) => `${e.kiosk_id}/${e.source_id}`)).size).toBe(cloudDispenses.length);
    for (const kiosk of fleet.kiosks) {
      const inCloud = cloudDispenses.filter((e) => e.kiosk_id === kiosk.id);
      expect(inCloud.map((e) => e.event_id).sort(), `${kiosk.id} dispense events`).toEqual(
        readGatewayEventIds(kiosk.gateway.dataDir, 'dispense').sort(),
      );
      for (const id of DISPENSERS) {
        const measuredMl = dispenserCounters(kiosk.dispenserDataDir(id)).delivered_ml;
        const cloudMl = -inCloud.filter((e) => e.dispenser_id === id).reduce((sum, e) => sum + e.amount_ml, 0);
        expect({ kiosk: kiosk.id, dispenser: id, ml: cloudMl }).toEqual({
          kiosk: kiosk.id,
          dispenser: id,
          ml: measuredMl,
        });
      }
    }
    // Every confirmed payment credited once (lost callbacks found by the status job, replays ignored).
    await expect
      .poll(
        async () => (await fleet.cloud.db.query(`SELECT 1 FROM payments WHERE status = 'pending'`)).length,
        polling('payments settled'),
      )
      .toBe(0);
    const topups = await fleet.cloud.db.query<{ source_id: string; n: number }>(
      `SELECT source_id, count(*)::int AS n FROM ledger_events WHERE type = 'topup' GROUP BY source_id`,
    );
    expect(topups.map((t) => t.source_id).sort()).toEqual([...confirmedPayments].sort());
    expect(topups.every((t) => t.n === 1)).toBe(true);
    // Every balance is the sum of its events.
    expect(await balanceDrift(fleet.cloud.db)).toEqual([]);

    // The token's credit: one top-up in the cloud, under the id both kiosks wrote it with.
    const tokenEventId = await issuedTokenEventId(tokenHolder);
    for (const kiosk of [first, second]) {
      expect(readGatewayEventIds(kiosk.gateway.dataDir, 'topup'), `${kiosk.id} credit`).toContain(tokenEventId);
    }
    const holderTopups = await fleet.cloud.db.query<{ event_id: string }>(
      `SELECT event_id::text AS event_id FROM ledger_events WHERE account_id = $1 AND type = 'topup'`,
      [tokenHolder.accountId],
    );
    expect(holderTopups.map((e) => e.event_id)).toEqual([tokenEventId]);

    // Offline exposure: (kiosks visited while offline) × (offline daily limit), no more.
    const cloud = await cloudBalances();
    expect(cloud.get(wanderer.accountId)).toBe(WANDERER_START_ML - cutOff.length * OFFLINE_LIMIT_ML);
    expect(cloud.get(tokenHolder.accountId)).toBe(TOKEN_HOLDER_START_ML + PAYMENT_ML);

    // After heal, within one pull, every gateway sees every balance it follows (of the customers it
    // served) as the cloud does; anyone else's it asks the cloud for at the keypad.
    const version = Math.max(
      ...(await fleet.cloud.db.query<{ version: number }>('SELECT max(version)::bigint AS version FROM customers')).map(
        (r) => Number(r.version),
      ),
    );
    for (const kiosk of fleet.kiosks) {
      await expect
        .poll(
          async () => Number((await kiosk.syncStatus()).cursor),
          polling(`${kiosk.id} pulled to version ${version}`),
        )
        .toBeGreaterThanOrEqual(version);
      const view = readGatewayBalances(kiosk.gateway.dataDir, [...cloud.keys()]);
      // An approval whose answer a kill swallowed stays held until the hold expires: the
      // gateway cannot know no water flowed. Holds aside, the view is the cloud's.
      const holds = readGatewayHolds(kiosk.gateway.dataDir, [...cloud.keys()]);
      const followed = readGatewayFollowed(kiosk.gateway.dataDir, kiosk.id, [...cloud.keys()]);
      expect(followed.size, `${kiosk.id} follows the shoppers it served`).toBeGreaterThan(0);
      for (const [accountId, balance] of cloud) {
        if (!followed.has(accountId)) continue;
        const seen = view.get(accountId);
        expect({
          kiosk: kiosk.id,
          accountId,
          balance: seen === undefined ? undefined : seen + (holds.get(accountId) ?? 0),
        }).toEqual({ kiosk: kiosk.id, accountId, balance });
      }
    }
    const events = await fleet.cloud.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_events');
    counts.events = events[0]?.n ?? 0;
    expect(counts.kills).toBeGreaterThan(0);
  }, 230_000);
});
