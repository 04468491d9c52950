import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { PullResponse } from '@tusafishe/protocol';
import type { FastifyBaseLogger } from 'fastify';
import {
  currentVersion,
  customersChangedSince,
  latestChangedCustomers,
  customerWriters,
  profilesChangedBeyond,
  type FeedChangePage,
} from '../customers/customers.js';
import type { CloudMetrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import { CUSTOMERS_CHANGED_CHANNEL } from '../store/migrations.js';
import { CustomerTail, type TailPage } from './customer-tail.js';
import { type BalanceFilter, isSent } from './feed-filter.js';

export interface ChangeFeedOptions {
  /** Changes kept in memory to answer kiosks from; a kiosk further behind is answered from the database. Default 10,000. */
  tailSize?: number;
  /** How often the feed reads again without a notification while long-polls wait (a lost LISTEN). Default 1 s. */
  recheckMs?: number;
  /**
   * Changes read are published to long-polls at most this often, gathered meanwhile: with changes
   * every few ms, each kiosk pulls a few times a second, not once per change, and kiosks woken by
   * one publication share its pages. The most it adds to a change's way to a kiosk. Default 500 ms.
   */
  lingerMs?: number;
}

/** One pull's answer, and the same serialised as it is sent: kiosks asking for the same page share both. */
export interface FeedAnswer {
  response: PullResponse;
  body: Buffer;
  /**
   * The body gzipped, compressed once for every kiosk sent this answer: a kiosk's 4G link pays by
   * the byte every day, and a page of customer records gzips to a half (a few records) to a
   * quarter (`GZIP`). Undefined for a page read from the database for one kiosk catching up (a
   * first replica, a long outage): compressed per request, a million customers' first replica
   * took 36 % longer here (the gateway's CPU inflating it), a one-off the feed's stream is not.
   */
  gzipped: (() => Promise<Buffer>) | undefined;
}

/** Records a page holds when the kiosk does not say (`limit`). */
export const DEFAULT_PAGE = 500;
/** Rows one read of the database takes at a time. */
const READ_BATCH = 1000;
/** Serialised pages kept between publications (pulls that do not wait add their own). */
const PAGE_CACHE_MAX = 256;
/**
 * Pages read from the database kept for kiosks behind at the same cursor: a few, as they are
 * large (a first replica's are 2,000 records) and kiosks catching up drift apart. 256 of them
 * held the cloud at ~900 MB while gateways pulled a million customers.
 */
const BEHIND_CACHE_MAX = 8;
/** Longest pause between looks at the transactions a horizon waits for. */
const HORIZON_POLL_MAX_MS = 50;
/** Waiting longer than this for a horizon is logged (a session idle in a transaction holds the feed). */
const HORIZON_WARN_MS = 10_000;

/** zlib's own thread pool, off the event loop. */
const gzipAsync = promisify(gzip);
/**
 * The fastest level: pages of records with random PIN hashes and token keys come out 2.1× (3
 * records) to 3.7× (500) smaller, level 6 only 1–5 % smaller still; at 600 kiosks level 1 cost the
 * cloud 2 % more CPU a request and level 6 15 % (bench/RESULTS.md § fleet).
 */
const GZIP = { level: 1 };

/** Kiosks woken together in one turn of the event loop at a publication (`wakeWaiters`). */
const WAKE_SLICE = 50;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Serves every kiosk's pull of customer changes from one in-memory tail of recent changes (the
 * way Electric serves one shape log to many clients): a change costs one database read per
 * instance, and one JSON serialisation, however many kiosks long-poll. The reader is woken by the
 * NOTIFY a trigger on `customers` sends on commit (from any instance; PGlite delivers it in
 * process), and reads again every `recheckMs` while long-polls wait, in case a notification was lost.
 *
 * Long-polls see the tail as of its last publication (`published`), which moves at most every
 * `lingerMs`: the kiosks it wakes were answered together before, so they ask from the same cursor
 * and get the same page, built once and sent as the same bytes to all of them.
 *
 * Writers take versions without a global lock (migration 18), so a version may commit after a
 * higher one: every read first finds a horizon no running transaction can still commit below
 * (`versionHorizon`) and reads only up to it, so a cursor never skips a version that commits late.
 */
export class ChangeFeed {
  private readonly waiting = new Set<() => void>();
  private reading: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private recheck: NodeJS.Timeout | undefined;
  /** When the last read began, and the read a notification asked for later. */
  private readAt = 0;
  private readTimer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  /** Moves when the tail is rebuilt: a long-poll begun before answers, and its next pull is judged afresh. */
  private generation = 0;
  /** The tail's head as long-polls see it: moves at most every `lingerMs` (`publish`). */
  private published: number;
  private publishedAt = 0;
  private publishTimer: NodeJS.Timeout | undefined;
  /**
   * Answers built since the last publication, by `after:limit:upTo`: each stays a true answer
   * (a record superseded since comes later, above `upTo`) until the tail is replaced.
   */
  private readonly answers = new SharedBuilds<FeedAnswer>(PAGE_CACHE_MAX);
  /** The same for pages read from the database for kiosks behind the tail. */
  private readonly behindAnswers = new SharedBuilds<FeedAnswer>(BEHIND_CACHE_MAX);
  /** Reads of the database for kiosks behind the tail since the last publication, by `after:limit:upTo`. */
  private readonly behind = new SharedBuilds<FeedChangePage>(BEHIND_CACHE_MAX);
  /** Set when the cloud shuts down: long-polls answer at once instead of holding the server open. */
  closed = false;

  private constructor(
    private readonly db: Db,
    private tail: CustomerTail,
    private readonly tailSize: number,
    private readonly lingerMs: number,
    private readonly metrics: CloudMetrics,
    private readonly log: FastifyBaseLogger,
  ) {
    this.published = tail.head;
  }

  static async open(
    db: Db,
    metrics: CloudMetrics,
    log: FastifyBaseLogger,
    options: ChangeFeedOptions = {},
  ): Promise<ChangeFeed> {
    const tailSize = options.tailSize ?? 10_000;
    const tail = await warmTail(db, tailSize, await versionHorizon(db, log));
    const feed = new ChangeFeed(db, tail, tailSize, options.lingerMs ?? 500, metrics, log);
    feed.unlisten = await db.listen(CUSTOMERS_CHANGED_CHANNEL, () => feed.wake());
    feed.recheck = setInterval(() => {
      if (feed.waiting.size > 0) void feed.recheckNow();
    }, options.recheckMs ?? 1000);
    feed.recheck.unref();
    return feed;
  }

  /**
   * One kiosk's pull: changes after `after`, oldest first, those `filter` sends only, waiting up
   * to `waitMs` for one when there is none. A pull that does not wait sees every change committed
   * before it arrived; a long-poll sees the last publication.
   */
  async pull(
    after: number,
    limit: number,
    waitMs: number,
    signal: AbortSignal,
    filter?: BalanceFilter,
  ): Promise<FeedAnswer> {
    if (after > this.tail.head || (waitMs === 0 && after >= this.tail.floor)) await this.refresh();
    // A cursor beyond anything handed out means the gateway's replica came from another database.
    if (after > this.tail.head && after > (await this.count('cursor', currentVersion(this.db))))
      return serialise({ customers: [], cursor: '0', has_more: false, must_refetch: true }, []);
    const deadline = Date.now() + waitMs;
    const generation = this.generation;
    const upTo = (): number => (waitMs === 0 ? this.tail.head : this.published);
    let from = after;
    let answer = await this.answer(from, limit, upTo(), filter);
    while (
      // A filtered page may send nothing and have more (a kiosk catching up on others' top-ups):
      // answered at once, its cursor moved, as any page with more.
      answer.response.customers.length === 0 &&
      !answer.response.has_more &&
      Date.now() < deadline &&
      !signal.aborted &&
      !this.closed &&
      generation === this.generation
    ) {
      await this.waitForChange(deadline, signal);
      // A filtered page that sent nothing still looked as far as its cursor: on from there, or
      // each publication would scan again everything since the kiosk's cursor.
      if (filter && generation === this.generation) from = Number(answer.response.cursor);
      answer = await this.answer(from, limit, upTo(), filter);
    }
    return answer;
  }

  /** Resolves at the next publication, at `deadline`, when `signal` aborts or the feed closes. */
  waitForChange(deadline: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiting.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      this.waiting.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.recheck);
    clearTimeout(this.publishTimer);
    clearTimeout(this.readTimer);
    this.wakeWaiters();
    await this.unlisten?.();
    await this.reading?.catch(() => undefined);
  }

  /**
   * The page after `after` up to `upTo`, built once for every kiosk asking for it until the next
   * publication. Filtered pages differ only by the few customers each kiosk follows: kiosks sent
   * the same records (most, in a publication's half second) share one.
   */
  private async answer(after: number, limit: number, upTo: number, filter?: BalanceFilter): Promise<FeedAnswer> {
    const shared = this.tail.covers(after);
    const answers = shared ? this.answers : this.behindAnswers;
    if (!filter)
      return answers.once(`${after}:${limit}:${upTo}`, async () =>
        this.serialise(after, await this.page(after, limit, upTo), shared),
      );
    const page = shared
      ? this.tail.page(after, limit, upTo, filter)
      : await this.readBehind(after, limit, upTo, filter);
    const versions = page.customers.map((record) => record.version).join(',');
    const key = `${after}:${page.through}:${page.hasMore}:${versions}`;
    return answers.once(key, async () => this.serialise(after, page, shared, Math.max(after, page.through)));
  }

  /** From the tail, shared by every kiosk at this cursor; or read for one kiosk further behind. */
  private async page(after: number, limit: number, upTo: number): Promise<TailPage> {
    return this.tail.covers(after) ? this.tail.page(after, limit, upTo) : this.readBehind(after, limit, upTo);
  }

  /** `page` as sent; its cursor the last record's (a filtered page's: `cursor`, all it looked at). */
  private serialise(after: number, page: TailPage, shared: boolean, cursor?: number): FeedAnswer {
    this.metrics.changeFeedPagesBuilt.inc();
    const last = page.customers.at(-1);
    return serialise(
      {
        customers: page.customers,
        cursor: String(cursor ?? (last ? last.version : after)),
        has_more: page.hasMore,
        must_refetch: false,
      },
      page.json,
      shared,
    );
  }

  /**
   * A page for a kiosk further behind than the tail reaches (a new or long-offline kiosk): the
   * database answers, up to a head the tail has read (a horizon already waited for). Kiosks
   * behind at the same cursor share the read. Filtered: the page's records `filter` sends, and the
   * customers whose profile changed within it but whose newest change is beyond it, sent early
   * (as the tail's `profilesBeyond`): read up to a version, the table shows them at neither.
   */
  private async readBehind(after: number, limit: number, upTo: number, filter?: BalanceFilter): Promise<TailPage> {
    const page = await this.behind.once(`${after}:${limit}:${upTo}`, () =>
      this.count('behind', customersChangedSince(this.db, after, limit, upTo)),
    );
    const last = page.changes.at(-1);
    const through = page.hasMore && last ? last.record.version : upTo;
    const sent = filter
      ? [
          ...page.changes.filter((change) => isSent(change, after, filter)),
          ...(await this.count('profile', profilesChangedBeyond(this.db, after, through))),
        ]
      : page.changes;
    const customers = sent.map((change) => change.record);
    return { customers, json: customers.map((record) => JSON.stringify(record)), hasMore: page.hasMore, through };
  }

  /** Long-polls see the tail read so far: now, or `lingerMs` after the last publication. */
  private tailMoved(): void {
    if (this.publishTimer || this.closed) return;
    const wait = this.publishedAt + this.lingerMs - Date.now();
    if (wait <= 0) this.publish();
    else this.publishTimer = setTimeout(() => this.publish(), wait);
  }

  private publish(): void {
    this.publishTimer = undefined;
    if (this.tail.head === this.published) return;
    this.published = this.tail.head;
    this.publishedAt = Date.now();
    this.answers.clear();
    this.behindAnswers.clear();
    this.behind.clear();
    this.wakeWaiters();
  }

  /** A new tail (a bulk import, a restore): answers built from the old one are dropped. */
  private replaceTail(tail: CustomerTail): void {
    this.tail = tail;
    this.answers.clear();
    this.behindAnswers.clear();
    this.behind.clear();
  }

  /**
   * A change committed: read now, or `lingerMs` after the last read began. Long-polls see changes
   * no more often than that anyway, so at peak hour (a notification per push) the database is
   * read a few times a second, not once per push; a pull that does not wait reads at once.
   */
  private wake(): void {
    if (this.readTimer || this.closed) return;
    const read = (): void => {
      this.readTimer = undefined;
      this.refresh().catch((error: unknown) => this.log.warn({ err: error }, 'change feed read failed'));
    };
    const wait = this.readAt + this.lingerMs - Date.now();
    if (wait <= 0) read();
    else this.readTimer = setTimeout(read, wait);
  }

  /**
   * Reads the changes committed since the last read; resolves after a read that started after
   * this call. Calls while a read runs share the one queued after it, so a burst of wake-ups and
   * pulls costs at most two reads.
   */
  private refresh(): Promise<void> {
    if (!this.reading) {
      this.reading = this.read().finally(() => {
        this.reading = undefined;
      });
      return this.reading;
    }
    this.queued ??= this.reading
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.refresh();
      });
    return this.queued;
  }

  private async read(): Promise<void> {
    this.readAt = Date.now();
    const tail = this.tail;
    const before = tail.head;
    const upTo = await this.hiddenProfiles(before, await this.count('horizon', versionHorizon(this.db, this.log)));
    for (let read = 0; ; ) {
      const batch = Math.min(READ_BATCH, this.tailSize);
      const page = await this.count('tail', customersChangedSince(this.db, tail.head, batch, upTo));
      if (this.tail !== tail) return; // rebuilt meanwhile (a restore noticed): this read is moot
      tail.append(page.changes);
      if (!page.hasMore) break;
      read += page.changes.length;
      // More changed than the tail holds (a bulk import): start it afresh from the newest rather
      // than read every row; kiosks further back read the database.
      if (read >= this.tailSize) {
        const fresh = await warmTail(this.db, this.tailSize, upTo);
        if (this.tail === tail) this.replaceTail(fresh);
        break;
      }
    }
    if (this.tail.head > before) this.tailMoved();
  }

  /**
   * `upTo`, or just below a profile change a read up to it would not see (its customer changed
   * again above it, `profileChangeHiddenAbove`): the tail then holds every profile change up to its
   * head, so no filtered kiosk is moved past one unsent. The next read, a moment later, sees the
   * customer's newer version, above the head it stopped at.
   */
  private async hiddenProfiles(head: number, upTo: number): Promise<number> {
    const hidden = await this.count('profile', profilesChangedBeyond(this.db, head, upTo));
    return hidden.length === 0 ? upTo : Math.max(head, Math.min(...hidden.map((change) => change.profileVersion)) - 1);
  }

  /** The periodic read while long-polls wait; also notices a database replaced under the cloud (a restore). */
  private async recheckNow(): Promise<void> {
    try {
      await this.refresh();
      if ((await this.count('cursor', currentVersion(this.db))) >= this.tail.head) return;
      this.log.warn({ head: this.tail.head }, 'customer versions went back (database restored?): change feed reset');
      this.replaceTail(await warmTail(this.db, this.tailSize, await versionHorizon(this.db, this.log)));
      this.published = this.tail.head;
      this.generation += 1;
      this.wakeWaiters();
    } catch (error) {
      this.log.warn({ err: error }, 'change feed recheck failed');
    }
  }

  /**
   * Wakes the waiting kiosks `WAKE_SLICE` at a time, a turn of the event loop apart: each one woken
   * runs on to its socket write in the same turn, and 600 of them at once held the loop for tens of
   * milliseconds, during which pushes' database answers waited (bench/RESULTS.md § fleet).
   */
  private wakeWaiters(): void {
    const waiters = [...this.waiting];
    const wake = (from: number): void => {
      for (const done of waiters.slice(from, from + WAKE_SLICE)) done();
      if (from + WAKE_SLICE < waiters.length) setImmediate(wake, from + WAKE_SLICE);
    };
    wake(0);
  }

  private count<T>(query: 'tail' | 'behind' | 'cursor' | 'horizon' | 'profile', result: Promise<T>): Promise<T> {
    this.metrics.changeFeedQueries.inc({ query });
    return result;
  }
}

/** What kiosks asking together share until cleared: each built once, at most `max` kept (all dropped when full). */
class SharedBuilds<T> {
  private readonly builds = new Map<string, Promise<T>>();

  constructor(private readonly max: number) {}

  once(key: string, build: () => Promise<T>): Promise<T> {
    const known = this.builds.get(key);
    if (known) return known;
    // Kept from the start, so kiosks woken together wait for the one being built.
    const built = build();
    if (this.builds.size >= this.max) this.builds.clear();
    this.builds.set(key, built);
    built.catch(() => {
      if (this.builds.get(key) === built) this.builds.delete(key);
    });
    return built;
  }

  clear(): void {
    this.builds.clear();
  }
}

/**
 * The highest version below which no change can still commit: the last version handed out, once
 * every transaction changing customers when it was read has ended. A writer holds its lock from
 * before it takes a version until it ends (migration 18), so whoever took a version up to it has
 * now committed (visible to any later read) or rolled back. Waits for the writers in flight,
 * never for ones that start later.
 */
async function versionHorizon(db: Db, log: FastifyBaseLogger): Promise<number> {
  const handedOut = await currentVersion(db);
  let writers = new Set(await customerWriters(db));
  const started = Date.now();
  let warned = false;
  for (let pause = 1; writers.size > 0; pause = Math.min(pause * 2, HORIZON_POLL_MAX_MS)) {
    await sleep(pause);
    const now = new Set(await customerWriters(db));
    writers = new Set([...writers].filter((writer) => now.has(writer)));
    if (!warned && writers.size > 0 && Date.now() - started > HORIZON_WARN_MS) {
      warned = true;
      log.warn({ writers: [...writers] }, 'change feed waits for long-running customer changes (idle in transaction?)');
    }
  }
  return handedOut;
}

/** A pull's answer with its body, joined from records serialised once (`json`, in the same order). */
function serialise(response: PullResponse, json: readonly string[], compressible = false): FeedAnswer {
  const rest = JSON.stringify({
    cursor: response.cursor,
    has_more: response.has_more,
    must_refetch: response.must_refetch,
  });
  // Ends with a newline: the same bytes (and gzip member) are a long-poll's body and a line of the stream.
  const body = Buffer.from(`{"customers":[${json.join(',')}],${rest.slice(1)}\n`);
  let gzipped: Promise<Buffer> | undefined;
  return { response, body, gzipped: compressible ? () => (gzipped ??= gzipAsync(body, GZIP)) : undefined };
}

/** The answer's body gzipped: the copy shared by every kiosk sent it, or compressed for this one. */
export function gzippedBody(answer: FeedAnswer): Promise<Buffer> {
  return answer.gzipped ? answer.gzipped() : gzipAsync(answer.body, GZIP);
}

/** A tail holding the `size` latest changes up to `upTo`, so kiosks reconnecting after a restart are answered from memory. */
async function warmTail(db: Db, size: number, upTo: number): Promise<CustomerTail> {
  const latest = await latestChangedCustomers(db, size, upTo);
  const oldest = latest[0];
  const floor = latest.length === size && oldest ? oldest.record.version - 1 : 0;
  const tail = new CustomerTail(size, floor);
  // Up to a profile change it would not hold (as `ChangeFeed.hiddenProfiles`); the next read goes on.
  const hidden = Math.min(...(await profilesChangedBeyond(db, floor, upTo)).map((change) => change.profileVersion));
  tail.append(latest.filter((change) => change.record.version < hidden));
  return tail;
}
