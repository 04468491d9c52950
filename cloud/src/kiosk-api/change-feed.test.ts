import { gunzipSync } from 'node:zlib';
import type { PullResponse } from '@tusafishe/protocol';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { backends, freshDb } from '../../test/backends.js';
import { createCustomer } from '../customers/customers.js';
import { CloudMetrics } from '../metrics.js';
import { ChangeFeed } from './change-feed.js';
import { streamPages } from './customer-stream.js';
import { balanceFilter } from './feed-filter.js';

const ACCOUNTS = 6;
/**
 * The first two pull as a long-polling gateway does, the next two follow the customer stream; the
 * last two (one pulling, one streaming) ask for their own customers' balances only and follow no
 * one: they must still get every profile change (here, every name).
 */
const KIOSKS = 6;
const PULLING = 2;
const FILTERED = 4;
const INSTANCES = 2;
const FOLLOWING_NO_ONE = { kioskId: 'KIOSK-F', days: 30 };

const account = fc.nat(ACCOUNTS - 1);
const ops = fc.array(
  fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant('write' as const),
        accounts: fc.uniqueArray(account, { minLength: 1, maxLength: 3 }),
        abort: fc.boolean(),
      }),
      weight: 4,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('topup' as const),
        accounts: fc.uniqueArray(account, { minLength: 1, maxLength: 3 }),
      }),
      weight: 3,
    },
    fc.record({ kind: fc.constant('overlap' as const), first: account, second: account }),
    fc.record({ kind: fc.constant('restart-kiosk' as const), kiosk: fc.nat(KIOSKS - 1) }),
    fc.record({ kind: fc.constant('restart-instance' as const), instance: fc.nat(INSTANCES - 1) }),
  ),
  { minLength: 4, maxLength: 20 },
);

/**
 * A gateway's side of the feed: pulls through whichever instance it is handed (as behind a load
 * balancer), applies each page and its cursor together (as the gateway's transaction does), and
 * loses the page in flight when it restarts.
 */
class Kiosk {
  cursor = 0;
  readonly replica = new Map<string, { version: number; name: string }>();
  /** Every version applied, in the order applied, across restarts. */
  readonly applied: number[] = [];
  readonly appliedByAccount: { account: string; version: number }[] = [];
  private inFlight = new AbortController();
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(
    private readonly instance: () => Promise<ChangeFeed>,
    private readonly limit: number,
    private readonly streaming: boolean,
    readonly filtered: boolean,
  ) {}

  /** Long-polls wait, and streams beat, less when filtered: pages that send nothing move the cursor only then. */
  private get waitMs(): number {
    return this.filtered ? 1_000 : 5_000;
  }

  start(): void {
    this.done = this.run();
  }

  restart(): void {
    this.inFlight.abort();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.inFlight.abort();
    await this.done;
  }

  private async run(): Promise<void> {
    let caughtUp = false;
    while (!this.stopped) {
      const controller = new AbortController();
      this.inFlight = controller;
      const feed = await this.instance();
      if (this.streaming) {
        // One stream on one instance until the kiosk restarts or the instance closes; then again from the cursor.
        const from = {
          cursor: this.cursor,
          limit: this.limit,
          heartbeatMs: this.waitMs,
          ...(this.filtered && { follow: FOLLOWING_NO_ONE }),
        };
        for await (const { response: page } of streamPages(feed, from, controller.signal)) this.apply(page);
        continue;
      }
      const filter = this.filtered ? balanceFilter(FOLLOWING_NO_ONE.kioskId, FOLLOWING_NO_ONE.days) : undefined;
      const { response: page } = await feed.pull(
        this.cursor,
        this.limit,
        caughtUp ? this.waitMs : 0,
        controller.signal,
        filter,
      );
      if (controller.signal.aborted) continue; // restarted: the answer never reached the replica
      this.apply(page);
      caughtUp = !page.has_more;
    }
  }

  private apply(page: PullResponse): void {
    if (page.must_refetch) throw new Error(`told to refetch at ${this.cursor}`);
    for (const customer of page.customers) {
      this.applied.push(customer.version);
      this.appliedByAccount.push({ account: customer.account_id, version: customer.version });
      this.replica.set(customer.account_id, { version: customer.version, name: customer.name });
    }
    this.cursor = Number(page.cursor);
  }
}

describe.each(backends())('the change feed on $name', (backend) => {
  const log = pino({ level: 'silent' });
  let phones = 0;

  const db = freshDb(backend);

  const openFeed = (tailSize: number): Promise<ChangeFeed> =>
    ChangeFeed.open(db(), new CloudMetrics(async () => 0), log, { tailSize });

  async function write(accountIds: string[], tag: string, abort: boolean): Promise<void> {
    await db()
      .transaction(async (tx) => {
        await tx.query('UPDATE customers SET name = $2 WHERE account_id = ANY($1::text[])', [accountIds, tag]);
        if (abort) throw new Error('rolled back');
      })
      .catch((error: unknown) => {
        if (!abort) throw error;
      });
  }

  /** Two writers at once: the first holds its version (and the lock) while the second waits for it. */
  async function overlap(first: string, second: string, tag: string): Promise<void> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let updated!: () => void;
    const holding = new Promise<void>((resolve) => {
      updated = resolve;
    });
    const slow = db().transaction(async (tx) => {
      await tx.query('UPDATE customers SET name = $2 WHERE account_id = $1', [first, `${tag}-slow`]);
      updated();
      await gate;
    });
    await holding;
    const fast = write([second], `${tag}-fast`, false);
    release();
    await Promise.all([slow, fast]);
  }

  async function topUp(accountIds: string[]): Promise<void> {
    await db().query('UPDATE customers SET balance_ml = balance_ml + 1 WHERE account_id = ANY($1::text[])', [
      accountIds,
    ]);
  }

  it('delivers every change to every kiosk, pulling or streaming, once, in order, through kiosk and instance restarts', async () => {
    await fc.assert(
      fc.asyncProperty(
        ops,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 8 }),
        async (run, limit, tail) => {
          const accounts: string[] = [];
          for (let i = 0; i < ACCOUNTS; i += 1) {
            phones += 1;
            const phone = `+2547${String(10_000_000 + phones).slice(-8)}`;
            accounts.push((await createCustomer(db(), { phone, name: 'new' })).account_id);
          }
          const instances = await Promise.all(Array.from({ length: INSTANCES }, () => openFeed(tail)));
          let slots = instances.map((feed) => Promise.resolve(feed));
          let picks = 0;
          const kiosks = Array.from(
            { length: KIOSKS },
            // Each pull (or stream) goes to the next instance, as a round-robin balancer sends it.
            (_, k) =>
              new Kiosk(() => slots[(picks += 1) % INSTANCES]!, limit, k >= PULLING && k !== FILTERED, k >= FILTERED),
          );
          for (const kiosk of kiosks) kiosk.start();
          try {
            for (const [step, op] of run.entries()) {
              const tag = `step-${step}`;
              if (op.kind === 'write')
                await write(
                  op.accounts.map((i) => accounts[i]!),
                  tag,
                  op.abort,
                );
              else if (op.kind === 'topup') await topUp(op.accounts.map((i) => accounts[i]!));
              else if (op.kind === 'overlap') await overlap(accounts[op.first]!, accounts[op.second]!, tag);
              else if (op.kind === 'restart-kiosk') kiosks[op.kiosk]!.restart();
              else {
                const old = await slots[op.instance]!;
                const next = old.close().then(() => openFeed(tail));
                slots = slots.map((slot, i) => (i === op.instance ? next : slot));
                instances.push(await next);
              }
            }
            const truth = await db().query<{ account_id: string; version: number; name: string }>(
              'SELECT account_id, version, name FROM customers',
            );
            const expected = new Map(truth.map((row) => [row.account_id, { version: row.version, name: row.name }]));
            const head = Math.max(...truth.map((row) => row.version));
            await vi.waitFor(() => expect(kiosks.map((kiosk) => kiosk.cursor)).toEqual(kiosks.map(() => head)), {
              timeout: 20_000,
            });
            const names = (replica: Map<string, { name: string }>): Map<string, string> =>
              new Map([...replica].map(([id, { name }]) => [id, name]));
            for (const kiosk of kiosks) {
              // A filtered kiosk is not sent top-ups of customers it does not follow: every name, though.
              if (kiosk.filtered) expect(names(kiosk.replica)).toEqual(names(expected));
              else expect(kiosk.replica).toEqual(expected);
              // Exactly once, in order: versions only ever go up, across restarts of either side (a
              // filtered kiosk may be sent a customer's newest record early: in order per customer).
              const inOrder = (applied: { account: string; version: number }[]): boolean =>
                applied.every(({ account, version }, i) =>
                  applied.slice(0, i).every((before) => before.account !== account || before.version < version),
                );
              if (kiosk.filtered) expect(inOrder(kiosk.appliedByAccount)).toBe(true);
              else expect(kiosk.applied.every((version, i) => i === 0 || version > kiosk.applied[i - 1]!)).toBe(true);
            }
          } finally {
            await Promise.all(kiosks.map((kiosk) => kiosk.stop()));
            await Promise.all(instances.map((feed) => feed.close()));
          }
        },
      ),
      { numRuns: 8 },
    );
  }, 120_000);

  it('wakes every waiting kiosk at a publication, however many wait (they are woken a slice at a time)', async () => {
    phones += 1;
    const { account_id } = await createCustomer(db(), {
      phone: `+2547${String(10_000_000 + phones).slice(-8)}`,
      name: 'many',
    });
    const feed = await openFeed(10);
    try {
      const signal = new AbortController().signal;
      const cursor = Number((await feed.pull(0, 1000, 0, signal)).response.cursor);
      // 230 long-polls waiting from the head: five slices, the last one partial.
      const waiting = Array.from({ length: 230 }, () => feed.pull(cursor, 100, 30_000, signal));
      await write([account_id], 'woken', false);
      const answers = await Promise.all(waiting);
      expect(answers.map((answer) => answer.response.customers.map((c) => c.name))).toEqual(
        answers.map(() => ['woken']),
      );
    } finally {
      await feed.close();
    }
  });

  it('gzips a page from the shared tail once for every kiosk, and leaves one read from the database as is', async () => {
    for (let i = 0; i < 3; i += 1) {
      phones += 1;
      await createCustomer(db(), { phone: `+2547${String(10_000_000 + phones).slice(-8)}`, name: 'gzip' });
    }
    const feed = await openFeed(2);
    try {
      const signal = new AbortController().signal;
      // Behind a two-change tail: read from the database for this kiosk alone.
      const behind = await feed.pull(0, 100, 0, signal);
      expect(behind.response.customers.length).toBeGreaterThan(2);
      expect(behind.gzipped).toBeUndefined();
      const inTail = Number(behind.response.customers.at(-3)!.version);
      const [first, second] = await Promise.all([feed.pull(inTail, 100, 0, signal), feed.pull(inTail, 100, 0, signal)]);
      expect(first.response.customers).toHaveLength(2);
      expect(first.gzipped).toBeDefined();
      const [zipped, again] = await Promise.all([first.gzipped!(), second.gzipped!()]);
      expect(again).toBe(zipped);
      expect(gunzipSync(zipped).equals(first.body)).toBe(true);
    } finally {
      await feed.close();
    }
  });
});
