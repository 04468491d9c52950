import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  affectsBalance,
  PullQuery,
  PushRequest,
  SYNC_PATHS,
  type CustomerLookupResponse,
  type CustomerRecord,
  type LedgerEvent,
  type PullResponse,
  type PushResponse,
} from '@tusafishe/protocol';

/**
 * A minimal in-memory kiosk API (protocol/src/sync.ts) for the worker's unit tests:
 * versioned customer feed with long-poll and stream, one customer's lookup, grow-only event
 * set, Basic auth. It also lets a test provoke what the real cloud rarely does (invalidated
 * cursors, lost answers).
 * The fleet suite (fleet/test) runs against the real cloud.
 */
export interface FakeKioskCloud {
  url: string;
  customers: Map<string, CustomerRecord>;
  events: Map<string, LedgerEvent>;
  /** Cursors the gateway pulled from, in order (a page of the stream is a pull from its cursor). */
  pulls: Array<string | null>;
  /** Streams opened so far. */
  streams: number;
  /** The `follow_days` each pull and each stream asked with, in order (undefined: every change). */
  followDays: Array<number | undefined>;
  /** Adds or changes a customer with the next version and wakes long-polls. */
  put(record: Omit<CustomerRecord, 'version'>): CustomerRecord;
  remove(accountId: string): void;
  /** Every cursor issued so far becomes invalid (the gateway must refetch). */
  invalidateCursors(): void;
  /** Next push is applied but its answer is lost (connection destroyed). */
  dropNextPushAnswer(): void;
  /** Pulls after the first `count` are held unanswered until `releasePulls` (or close). */
  holdPullsAfter(count: number): void;
  releasePulls(): void;
  close(): Promise<void>;
}

export interface FakeKioskCloudOptions {
  /** Serves `SYNC_PATHS.customerStream` (default); false plays a cloud older than the stream. */
  stream?: boolean;
}

export async function startFakeKioskCloud(
  kioskId: string,
  secret: string,
  options: FakeKioskCloudOptions = {},
): Promise<FakeKioskCloud> {
  const customers = new Map<string, CustomerRecord>();
  const events = new Map<string, LedgerEvent>();
  const pulls: Array<string | null> = [];
  const followDays: Array<number | undefined> = [];
  let version = 0;
  // Cursors carry the feed's epoch; invalidating starts a new one.
  let epoch = 1;
  const EPOCH = 1_000_000_000;
  let dropAnswer = false;
  let answerPulls = Number.POSITIVE_INFINITY;
  let releaseHeld: () => void = () => undefined;
  let held = Promise.resolve();
  let streams = 0;
  let closing = false;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of waiters) waiter();
    waiters.clear();
  };
  const expected = `Basic ${Buffer.from(`${kioskId}:${secret}`).toString('base64')}`;

  const app: FastifyInstance = Fastify();
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization !== expected)
      await reply.code(401).send({ code: 'UNAUTHORISED', message: 'bad kiosk credential' });
  });

  const changedSince = (cursor: number, limit: number): CustomerRecord[] =>
    [...customers.values()]
      .filter((c) => c.version > cursor)
      .sort((a, b) => a.version - b.version)
      .slice(0, limit + 1);

  /** One page after `raw`, waiting up to `wait_s` for a change when there is none. */
  async function answer(raw: string | undefined, limit: number, wait_s: number): Promise<PullResponse> {
    pulls.push(raw ?? null);
    if (pulls.length > answerPulls) await held;
    const cursor = raw === undefined ? 0 : Number(raw) % EPOCH;
    const invalid = (): boolean => raw !== undefined && Math.floor(Number(raw) / EPOCH) !== epoch;
    const refetch = (): PullResponse => ({ customers: [], cursor: '0', has_more: false, must_refetch: true });
    if (invalid()) return refetch();
    let page = changedSince(cursor, limit);
    if (page.length === 0 && wait_s > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait_s * 1000);
        waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (invalid()) return refetch();
      page = changedSince(cursor, limit);
    }
    const hasMore = page.length > limit;
    const records = page.slice(0, limit);
    const next = records.length > 0 ? (records.at(-1) as CustomerRecord).version : cursor;
    return { customers: records, cursor: String(epoch * EPOCH + next), has_more: hasMore, must_refetch: false };
  }

  app.get(SYNC_PATHS.customers, async (request, reply): Promise<PullResponse | undefined> => {
    const query = PullQuery.safeParse(request.query);
    if (!query.success) return reply.code(400).send({ code: 'INVALID_REQUEST', message: 'bad query' });
    const { cursor, limit = 1000, wait_s = 0 } = query.data;
    followDays.push(query.data.follow_days);
    return answer(cursor, limit, wait_s);
  });

  if (options.stream ?? true)
    app.get(SYNC_PATHS.customerStream, async (request, reply) => {
      const query = PullQuery.safeParse(request.query);
      if (!query.success) return reply.code(400).send({ code: 'INVALID_REQUEST', message: 'bad query' });
      const { limit = 1000, wait_s = 20 } = query.data;
      streams += 1;
      followDays.push(query.data.follow_days);
      const out = new PassThrough();
      let gone = false;
      reply.raw.once('close', () => {
        gone = true;
      });
      const follow = async (): Promise<void> => {
        for (let cursor = query.data.cursor, wait = 0; !closing && !gone; wait = wait_s) {
          const page = await answer(cursor, limit, wait);
          out.write(`${JSON.stringify(page)}\n`);
          if (page.must_refetch) return;
          cursor = page.cursor;
        }
      };
      void follow().finally(() => out.end());
      return reply.type('application/x-ndjson').send(out);
    });

  // Registered whether or not the stream is: its path then lands here, a 404 as from an older cloud.
  app.get<{ Params: { account_id: string } }>(
    SYNC_PATHS.customer,
    async (request, reply): Promise<CustomerLookupResponse | undefined> => {
      const customer = customers.get(request.params.account_id);
      if (customer) return { customer };
      return reply.code(404).send({ code: 'UNKNOWN_ACCOUNT', message: `no customer ${request.params.account_id}` });
    },
  );

  app.post(SYNC_PATHS.events, async (request, reply): Promise<PushResponse | undefined> => {
    const body = PushRequest.safeParse(request.body);
    if (!body.success) return reply.code(400).send({ code: 'INVALID_REQUEST', message: 'bad batch' });
    const response: PushResponse = { acked: [], rejected: [], balances: [] };
    const touched = new Set<string>();
    for (const event of body.data.events) {
      if (event.kiosk_id !== kioskId) {
        response.rejected.push({ event_id: event.event_id, code: 'WRONG_KIOSK', message: 'event of another kiosk' });
        continue;
      }
      if (!events.has(event.event_id)) {
        events.set(event.event_id, event);
        const customer = event.account_id === undefined ? undefined : customers.get(event.account_id);
        if (customer && affectsBalance(event.type)) {
          customers.set(customer.account_id, {
            ...customer,
            balance_ml: customer.balance_ml + event.amount_ml,
            version: ++version,
          });
        }
      }
      if (event.account_id !== undefined) touched.add(event.account_id);
      response.acked.push(event.event_id);
    }
    for (const id of touched) {
      const c = customers.get(id);
      if (c) response.balances.push({ account_id: id, balance_ml: c.balance_ml, version: c.version });
    }
    wake();
    if (dropAnswer) {
      dropAnswer = false;
      request.raw.socket.destroy();
      return reply.hijack();
    }
    return response;
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fake cloud has no TCP address');

  return {
    url: `http://127.0.0.1:${address.port}`,
    customers,
    events,
    pulls,
    followDays,
    get streams() {
      return streams;
    },
    put(record) {
      const full = { ...record, version: ++version };
      customers.set(record.account_id, full);
      wake();
      return full;
    },
    remove(accountId) {
      customers.delete(accountId);
    },
    invalidateCursors() {
      epoch += 1;
    },
    dropNextPushAnswer() {
      dropAnswer = true;
    },
    holdPullsAfter(count) {
      answerPulls = count;
      held = new Promise((resolve) => {
        releaseHeld = resolve;
      });
    },
    releasePulls() {
      answerPulls = Number.POSITIVE_INFINITY;
      releaseHeld();
    },
    async close() {
      closing = true;
      releaseHeld();
      wake();
      await app.close();
      if (app.server.listening) await once(app.server, 'close');
    },
  };
}
