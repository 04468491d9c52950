import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId } from '@tusafishe/protocol';
import { dayIn, zoneAtNoon } from '@tusafishe/protocol/testing';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { recordAdjustment } from '../src/admin/adjustments.js';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { ChangeFeed } from '../src/kiosk-api/change-feed.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { balanceDrift } from '../src/ledger/ledger.js';
import { backends } from './backends.js';
import { creditedCustomer } from './test-customers.js';
import { signInAs } from './console-session.js';
import { dispenseEvent, kioskClient } from './kiosk-client.js';

/** A series' value on the cloud's /metrics: `name` sums every label set, `name{…}` is that one. */
async function metric(cloudUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${cloudUrl}/metrics`)).text();
  const lines = text
    .split('\n')
    .filter((line) => line.startsWith(`${series} `) || (!series.includes('{') && line.startsWith(`${series}{`)));
  return lines.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

let phoneSeq = 0;
const nextPhone = (): string => `+2547000${String(10000 + (phoneSeq += 1)).slice(-5)}`;

const CREDIT_ML = 1_000_000;
/** The cloud's usage day runs in a zone where it is noon now, so no test here runs across its midnight. */
const USAGE_ZONE = zoneAtNoon();

/** A gateway's replica as the feed builds it: every record applied, in the order applied. */
class Replica {
  cursor = '0';
  readonly records = new Map<string, { version: number; balance_ml: number; name: string }>();
  readonly applied: number[] = [];
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(private readonly client: ReturnType<typeof kioskClient>) {}

  start(): void {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // A small page, so the changes arrive over many pulls.
      const { status, body } = await this.client.pull({ cursor: this.cursor, limit: 3, wait_s: 1 });
      if (status !== 200 || body.must_refetch) throw new Error(`pull ${status} at ${this.cursor}`);
      for (const customer of body.customers) {
        this.applied.push(customer.version);
        this.records.set(customer.account_id, customer);
      }
      this.cursor = body.cursor;
    }
  }
}

describe.each(backends())('kiosk API on $name', (backend) => {
  let cloud: RunningCloud;
  let kioskA: KioskCredential;
  let kioskB: KioskCredential;

  beforeAll(async () => {
    cloud = await startCloud({ ...backend.fresh(), port: 0, logger: false, usageTimeZone: USAGE_ZONE });
    kioskA = await createKiosk(cloud.db, { kioskId: 'KIOSK-A' });
    kioskB = await createKiosk(cloud.db, { kioskId: 'KIOSK-B' });
  });
  afterAll(async () => {
    await cloud?.close();
    await backend.cleanup();
  });

  const customerWithCredit = async (ml: number): Promise<string> =>
    (await creditedCustomer(cloud, { phone: nextPhone(), name: 'Test Customer', pin: '4321' }, ml)).account_id;

  it('refuses a gateway without its credential', async () => {
    const wrong = kioskClient(cloud.url, { kioskId: 'KIOSK-A', secret: 'not-the-secret' });
    expect((await wrong.pull()).status).toBe(401);
    const response = await fetch(`${cloud.url}/kiosk/v1/customers`);
    expect(response.status).toBe(401);
  });

  it('counts the same batch pushed twice once', async () => {
    const account = await customerWithCredit(20_000);
    const client = kioskClient(cloud.url, kioskA);
    const batch = [dispenseEvent('KIOSK-A', account, 5_000), dispenseEvent('KIOSK-A', account, 2_000)];
    const first = await client.push(batch);
    expect(first.status).toBe(200);
    expect(first.body.acked.sort()).toEqual(batch.map((e) => e.event_id).sort());
    expect(first.body.balances).toEqual([expect.objectContaining({ account_id: account, balance_ml: 13_000 })]);
    const again = await client.push(batch);
    expect(again.body.acked.sort()).toEqual(batch.map((e) => e.event_id).sort());
    expect(again.body.rejected).toEqual([]);
    expect(again.body.balances[0]?.balance_ml).toBe(13_000);
    expect(await balanceDrift(cloud.db)).toEqual([]);
  });

  it('rejects events of another kiosk, credit from a kiosk and unknown accounts, and keeps the rest', async () => {
    const account = await customerWithCredit(10_000);
    const client = kioskClient(cloud.url, kioskA);
    const foreign = dispenseEvent('KIOSK-B', account, 1_000);
    const forgedTopup = { ...dispenseEvent('KIOSK-A', account, 0), type: 'topup' as const, amount_ml: 50_000 };
    const unknown = dispenseEvent('KIOSK-A', 'TSNOBODY1', 1_000);
    const good = dispenseEvent('KIOSK-A', account, 1_000);
    const { body } = await client.push([foreign, forgedTopup, unknown, good]);
    expect(body.acked).toEqual([good.event_id]);
    expect(Object.fromEntries(body.rejected.map((r) => [r.event_id, r.code]))).toEqual({
      [foreign.event_id]: 'KIOSK_MISMATCH',
      [forgedTopup.event_id]: 'TOKEN_NOT_ISSUED',
      [unknown.event_id]: 'UNKNOWN_ACCOUNT',
    });
    expect(body.balances).toEqual([expect.objectContaining({ account_id: account, balance_ml: 9_000 })]);
  });

  it('rejects a malformed batch without changing anything', async () => {
    const response = await fetch(`${cloud.url}/kiosk/v1/events`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`KIOSK-A:${kioskA.secret}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ events: [{ event_id: 'not-a-uuid', type: 'dispense', amount_ml: -1 }] }),
    });
    expect(response.status).toBe(400);
  });

  it('merges two kiosks spending the same credit offline into a negative balance operators can see', async () => {
    const account = await customerWithCredit(10_000);
    const [a, b] = [kioskClient(cloud.url, kioskA), kioskClient(cloud.url, kioskB)];
    // Both kiosks were offline and each allowed 8 L against the same stale 10 L.
    const fromB = await b.push([dispenseEvent('KIOSK-B', account, 8_000)]);
    expect(fromB.body.balances[0]?.balance_ml).toBe(2_000);
    const fromA = await a.push([dispenseEvent('KIOSK-A', account, 8_000)]);
    expect(fromA.body.balances[0]?.balance_ml).toBe(-6_000);

    const finance = await signInAs(cloud, 'finance');
    expect(
      ((await finance.json('GET', '/negative-balances')) as { customers: { account_id: string; balance_ml: number }[] })
        .customers,
    ).toContainEqual(expect.objectContaining({ account_id: account, balance_ml: -6_000 }));
    expect((await fetch(`${cloud.url}/console/api/negative-balances`)).status).toBe(401);
    const metrics = await (await fetch(`${cloud.url}/metrics`)).text();
    expect(metrics).toMatch(/^tusafishe_negative_balances [1-9]/m);
  });

  it('pulls customers in pages and resumes from the cursor', async () => {
    const client = kioskClient(cloud.url, kioskA);
    const all: string[] = [];
    let cursor = '0';
    for (;;) {
      const { body } = await client.pull({ cursor, limit: 2 });
      expect(body.must_refetch).toBe(false);
      all.push(...body.customers.map((c) => c.account_id));
      cursor = body.cursor;
      if (!body.has_more) break;
    }
    const total = Number((await cloud.db.query<{ n: number }>('SELECT count(*)::int AS n FROM customers'))[0]!.n);
    expect(new Set(all).size).toBe(total);
    // Nothing new: an empty page that keeps the cursor.
    const idle = await client.pull({ cursor });
    expect(idle.body).toEqual({ customers: [], cursor, has_more: false, must_refetch: false });
    // A change after the cursor is exactly what the next pull returns, with the new balance.
    const account = await customerWithCredit(3_000);
    const next = await client.pull({ cursor });
    expect(next.body.customers.map((c) => [c.account_id, c.balance_ml])).toEqual([[account, 3_000]]);
    expect(next.body.customers[0]?.pin_hash).toMatch(/^\$scrypt\$/);
  });

  it('sends a page gzipped to a gateway that accepts it, and a small page or another client as is', async () => {
    for (let i = 0; i < 4; i++) await customerWithCredit(1_000);
    const client = kioskClient(cloud.url, kioskA);
    const sent = (encoding: string): Promise<number> =>
      metric(cloud.url, `tusafishe_change_feed_bytes_sent_total{encoding="${encoding}"}`);
    const [identityBefore, gzipBefore] = [await sent('identity'), await sent('gzip')];
    const plain = await client.pullOnWire('cursor=0&limit=10');
    const gzipped = await client.pullOnWire('cursor=0&limit=10', 'gzip, deflate');
    // What each kiosk was sent, counted as sent: operators see the feed's mobile data.
    expect(await sent('identity')).toBe(identityBefore + plain.body.length);
    expect(await sent('gzip')).toBe(gzipBefore + gzipped.body.length);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers['vary']).toMatch(/accept-encoding/i);
    expect(gunzipSync(gzipped.body).equals(plain.body)).toBe(true);
    expect(gzipped.body.length).toBeLessThan(plain.body.length / 2);
    // Refused by weight, or too small to pay: sent as is.
    expect((await client.pullOnWire('cursor=0&limit=10', 'gzip;q=0')).headers['content-encoding']).toBeUndefined();
    const idle = await client.pullOnWire(`cursor=${JSON.parse(plain.body.toString()).cursor}&limit=1`, 'gzip');
    expect(idle.body.length).toBeLessThan(1024);
    expect(idle.headers['content-encoding']).toBeUndefined();
  });

  it('tells a gateway with a cursor the cloud never issued to refetch', async () => {
    const { body } = await kioskClient(cloud.url, kioskA).pull({ cursor: '99999999' });
    expect(body).toMatchObject({ customers: [], must_refetch: true, cursor: '0' });
  });

  it('wakes a long-polling gateway when a customer changes', async () => {
    const client = kioskClient(cloud.url, kioskA);
    const { body: head } = await client.pull({ cursor: '0', limit: 5000 });
    const waits = vi.spyOn(ChangeFeed.prototype, 'waitForChange');
    try {
      let answered = false;
      const waiting = client.pull({ cursor: head.cursor, wait_s: 20 }).finally(() => {
        answered = true;
      });
      // The cloud found nothing new and is holding the request: the change must be what wakes it.
      await vi.waitFor(() => expect(waits).toHaveBeenCalled(), { timeout: 10_000 });
      expect(answered).toBe(false);
      const account = await customerWithCredit(0);
      const { body } = await waiting;
      expect(body.customers.map((c) => c.account_id)).toEqual([account]);
    } finally {
      waits.mockRestore();
    }
  });

  it('answers 100 long-polling kiosks woken by one change from memory with one page, not a query each', async () => {
    const feedQueries = (): Promise<number> => metric(cloud.url, 'tusafishe_change_feed_queries_total');
    const pagesBuilt = (): Promise<number> => metric(cloud.url, 'tusafishe_change_feed_pages_built_total');
    const client = kioskClient(cloud.url, kioskA);
    const { body: head } = await client.pull({ cursor: '0', limit: 5000 });
    const waits = vi.spyOn(ChangeFeed.prototype, 'waitForChange');
    try {
      const polls = Array.from({ length: 100 }, () => client.pull({ cursor: head.cursor, wait_s: 25 }));
      await vi.waitFor(() => expect(waits.mock.calls.length).toBeGreaterThanOrEqual(100), { timeout: 30_000 });
      const before = await feedQueries();
      const builtBefore = await pagesBuilt();
      const account = await customerWithCredit(0);
      const answers = await Promise.all(polls);
      expect(answers.map((answer) => answer.body.customers.map((c) => c.account_id))).toEqual(
        answers.map(() => [account]),
      );
      // One read of the change (and a recheck a second while they waited), not one per kiosk.
      expect((await feedQueries()) - before).toBeLessThan(25);
      // Asking from the same cursor, they share one page, serialised once.
      expect((await pagesBuilt()) - builtBefore).toBeLessThan(5);
    } finally {
      waits.mockRestore();
    }
  });

  it('stops taking a rotated secret at once, though verified secrets are remembered', async () => {
    const kiosk = await createKiosk(cloud.db, { kioskId: 'KIOSK-ROTATED' });
    const old = kioskClient(cloud.url, kiosk);
    expect((await old.pull()).status).toBe(200);
    // As `npm run provision -- kiosk rotate-secret` does it, from another process.
    const secret = 'a-new-secret-for-the-kiosk';
    await cloud.db.query('UPDATE kiosks SET credential_hash = $2 WHERE kiosk_id = $1', [
      kiosk.kioskId,
      await hashSecret(secret),
    ]);
    expect((await kioskClient(cloud.url, { kioskId: kiosk.kioskId, secret }).pull()).status).toBe(200);
    // The notification reaches the instance within moments (remembered secrets live 30 s without it).
    await expect.poll(async () => (await old.pull()).status, { timeout: 10_000, interval: 200 }).not.toBe(200);
    expect((await old.pull()).status).toBe(401);
  });

  it('never lets a gateway miss a change made by concurrent writers', async () => {
    const accounts = await Promise.all(Array.from({ length: 6 }, () => customerWithCredit(100_000)));
    const gateway = kioskClient(cloud.url, kioskA);
    const seen = new Map<string, number>();
    let cursor = (await gateway.pull({ limit: 5000 })).body.cursor;
    let writing = true;
    const follow = (async () => {
      // Long-poll while writers run, then drain: only a pull that does not wait, sent after every
      // writer has committed, promises every change (a long-poll sees the last publication).
      for (;;) {
        const draining = !writing;
        const { body } = await gateway.pull({ cursor, limit: 50, wait_s: draining ? 0 : 1 });
        for (const c of body.customers) seen.set(c.account_id, c.balance_ml);
        cursor = body.cursor;
        if (draining && !body.has_more) return;
      }
    })();
    const clients = [kioskClient(cloud.url, kioskA), kioskClient(cloud.url, kioskB)];
    await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const kiosk = i % 2 === 0 ? 'KIOSK-A' : 'KIOSK-B';
        const batch = accounts.map((account) => dispenseEvent(kiosk, account, 100 + i));
        return i % 6 === 5
          ? recordAdjustment(cloud.db, {
              accountId: accounts[i % accounts.length]!,
              amountMl: 1_000,
              reason: 'concurrent',
              operator: 'test',
            })
          : clients[i % 2]!.push(batch);
      }),
    );
    writing = false;
    await follow;
    const truth = await cloud.db.query<{ account_id: string; balance_ml: number }>(
      'SELECT account_id, balance_ml::int AS balance_ml FROM customers WHERE account_id = ANY($1::text[])',
      [accounts],
    );
    expect(Object.fromEntries(accounts.map((a) => [a, seen.get(a)]))).toEqual(
      Object.fromEntries(truth.map((row) => [row.account_id, row.balance_ml])),
    );
    expect(await balanceDrift(cloud.db)).toEqual([]);
  });

  describe('daily usage across kiosks', () => {
    const usageDay = (): string => dayIn(USAGE_ZONE);

    async function pulledRecord(account: string, afterVersion: number) {
      const pulled = await kioskClient(cloud.url, kioskA).pull({ cursor: String(afterVersion - 1) });
      return pulled.body.customers.find((c) => c.account_id === account);
    }

    it("sums two kiosks' dispenses of the day into the record every gateway pulls", async () => {
      const account = await customerWithCredit(20_000);
      const fromA = await kioskClient(cloud.url, kioskA).push([dispenseEvent('KIOSK-A', account, 3_000)]);
      expect(fromA.body.balances[0]).toMatchObject({ used_today_ml: 3_000, usage_day: usageDay() });
      const fromB = await kioskClient(cloud.url, kioskB).push([
        dispenseEvent('KIOSK-B', account, 1_500),
        dispenseEvent('KIOSK-B', account, 500),
      ]);
      expect(fromB.body.balances[0]).toMatchObject({ balance_ml: 15_000, used_today_ml: 5_000 });
      // A batch pushed again after a lost answer counts once here too.
      const batch = [dispenseEvent('KIOSK-A', account, 1_000)];
      await kioskClient(cloud.url, kioskA).push(batch);
      const again = await kioskClient(cloud.url, kioskA).push(batch);
      expect(again.body.balances[0]?.used_today_ml).toBe(6_000);
      const record = await pulledRecord(account, fromB.body.balances[0]!.version);
      expect(record).toMatchObject({ usage_day: usageDay(), used_today_ml: 6_000, balance_ml: 14_000 });
    });

    it("counts a dispense dated yesterday in the balance but not in today's usage", async () => {
      const account = await customerWithCredit(20_000);
      const client = kioskClient(cloud.url, kioskA);
      const yesterday = { ...dispenseEvent('KIOSK-A', account, 4_000), occurred_at: Date.now() - 86_400_000 };
      const late = await client.push([yesterday]);
      expect(late.body.balances[0]).toMatchObject({ balance_ml: 16_000, used_today_ml: 0, usage_day: null });
      const today = await client.push([
        dispenseEvent('KIOSK-A', account, 2_000),
        { ...yesterday, event_id: newId(), source_id: newId() },
      ]);
      expect(await pulledRecord(account, today.body.balances[0]!.version)).toMatchObject({
        balance_ml: 10_000,
        usage_day: usageDay(),
        used_today_ml: 2_000,
      });
    });
  });

  it('gives every kiosk every change of the same customers exactly once, in order', async () => {
    const kiosks = [kioskA, kioskB];
    for (let i = 2; i < 8; i += 1) kiosks.push(await createKiosk(cloud.db, { kioskId: `KIOSK-C${i}` }));
    const accounts = await Promise.all(Array.from({ length: 5 }, () => customerWithCredit(CREDIT_ML)));
    const shared = accounts.slice(0, 4);
    const late = accounts[4]!;
    const replicas = kiosks.slice(0, 4).map((kiosk) => new Replica(kioskClient(cloud.url, kiosk)));
    for (const replica of replicas) replica.start();
    // On the server, a change made before the pushes commits after them: the feed must not skip it.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held!: () => void;
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const lateWriter =
      backend.name === 'postgres'
        ? cloud.db.transaction(async (tx) => {
            await tx.query('UPDATE customers SET name = $2 WHERE account_id = $1', [late, 'Late']);
            held();
            await gate;
          })
        : Promise.resolve(held());
    await holding;
    try {
      // Every kiosk pushes batches touching the same customers, each in its own order, all at once.
      const pushed = await Promise.all(
        kiosks.map(async (kiosk, k) => {
          const client = kioskClient(cloud.url, kiosk);
          let drawn = 0;
          for (let batch = 0; batch < 5; batch += 1) {
            const order = k % 2 === 0 ? shared : [...shared].reverse();
            const events = order.map((account, i) => dispenseEvent(kiosk.kioskId, account, 100 + k + i));
            const { status, body } = await client.push(events);
            expect(status).toBe(200);
            expect(body.acked.sort()).toEqual(events.map((event) => event.event_id).sort());
            drawn += events.reduce((sum, event) => sum - event.amount_ml, 0);
          }
          return drawn;
        }),
      );
      release();
      await lateWriter;
      const truth = await cloud.db.query<{ account_id: string; version: number; balance_ml: number; name: string }>(
        'SELECT account_id, version, balance_ml, name FROM customers WHERE account_id = ANY($1::text[])',
        [accounts],
      );
      expect(truth.reduce((sum, row) => sum + (CREDIT_ML - Number(row.balance_ml)), 0)).toBe(
        pushed.reduce((a, b) => a + b, 0),
      );
      expect(await balanceDrift(cloud.db)).toEqual([]);
      const head = Math.max(...truth.map((row) => Number(row.version)));
      await vi.waitFor(
        () => expect(replicas.map((replica) => Number(replica.cursor))).toEqual(replicas.map(() => head)),
        {
          timeout: 30_000,
          interval: 100,
        },
      );
      for (const replica of replicas) {
        for (const row of truth)
          expect(replica.records.get(row.account_id)).toMatchObject({
            version: Number(row.version),
            balance_ml: Number(row.balance_ml),
            name: row.name,
          });
        // Exactly once, in order: the versions a kiosk applies only ever go up.
        expect(replica.applied.every((version, i) => i === 0 || version > replica.applied[i - 1]!)).toBe(true);
      }
    } finally {
      release();
      await Promise.all(replicas.map((replica) => replica.stop()));
    }
  }, 60_000);

  it('applies a lockout reported by a kiosk to the customer record every gateway pulls', async () => {
    const account = await customerWithCredit(0);
    const lockedUntil = Date.now() + 600_000;
    const client = kioskClient(cloud.url, kioskB);
    const { body } = await client.push([
      {
        event_id: newId(),
        type: 'pin_lockout',
        account_id: account,
        amount_ml: 0,
        kiosk_id: 'KIOSK-B',
        occurred_at: Date.now(),
        details: { locked_until: lockedUntil },
      },
    ]);
    expect(body.rejected).toEqual([]);
    const pulled = await kioskClient(cloud.url, kioskA).pull({ cursor: String(body.balances[0]!.version - 1) });
    expect(pulled.body.customers.find((c) => c.account_id === account)?.locked_until).toBe(lockedUntil);
  });
});
