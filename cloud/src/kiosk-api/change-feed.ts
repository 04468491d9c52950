import type { PullResponse } from '@tusafishe/protocol';
import type { FastifyBaseLogger } from 'fastify';
import {
  currentVersion,
  customersChangedSince,
  latestChangedCustomers,
  toCustomerRecord,
} from '../customers/customers.js';
import type { CloudMetrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import { CUSTOMERS_CHANGED_CHANNEL } from '../store/migrations.js';
import { CustomerTail, type TailPage } from './customer-tail.js';

export interface ChangeFeedOptions {
  /** Changes kept in memory to answer kiosks from; a kiosk further behind is answered from the database. Default 10,000. */
  tailSize?: number;
  /** How often the feed reads again without a notification while long-polls wait (a lost LISTEN). Default 1 s. */
  recheckMs?: number;
}

/** Rows one read of the database takes at a time. */
const READ_BATCH = 1000;

/**
 * Serves every kiosk's pull of customer changes from one in-memory tail of recent changes (the
 * way Electric serves one shape log to many clients): a change costs one database read per
 * instance, however many kiosks long-poll. The reader is woken by the NOTIFY a trigger on
 * `customers` sends on commit (from any instance; PGlite delivers it in process), and reads
 * again every `recheckMs` while long-polls wait, in case a notification was lost.
 *
 * Versions become visible in version order (the advisory lock every customer change holds until
 * commit, migration 3), so reading `version > head` never skips a version that commits later.
 */
export class ChangeFeed {
  private readonly waiting = new Set<() => void>();
  private reading: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  /** Moves when the tail is rebuilt: a long-poll begun before answers, and its next pull is judged afresh. */
  private generation = 0;
  /** Set when the cloud shuts down: long-polls answer at once instead of holding the server open. */
  closed = false;

  private constructor(
    private readonly db: Db,
    private tail: CustomerTail,
    private readonly tailSize: number,
    private readonly metrics: CloudMetrics,
    private readonly log: FastifyBaseLogger,
  ) {}

  static async open(
    db: Db,
    metrics: CloudMetrics,
    log: FastifyBaseLogger,
    options: ChangeFeedOptions = {},
  ): Promise<ChangeFeed> {
    const tailSize = options.tailSize ?? 10_000;
    const feed = new ChangeFeed(db, await warmTail(db, tailSize), tailSize, metrics, log);
    feed.unlisten = await db.listen(CUSTOMERS_CHANGED_CHANNEL, () => feed.wake());
    feed.recheck = setInterval(() => {
      if (feed.waiting.size > 0) void feed.recheckNow();
    }, options.recheckMs ?? 1000);
    feed.recheck.unref();
    return feed;
  }

  /**
   * One kiosk's pull: changes after `after`, oldest first, waiting up to `waitMs` for one when
   * there is none. A pull that does not wait sees every change committed before it arrived.
   */
  async pull(after: number, limit: number, waitMs: number, signal: AbortSignal): Promise<PullResponse> {
    if (after > this.tail.head || (waitMs === 0 && after >= this.tail.floor)) await this.refresh();
    // A cursor beyond anything handed out means the gateway's replica came from another database.
    if (after > this.tail.head && after > (await this.count('cursor', currentVersion(this.db))))
      return { customers: [], cursor: '0', has_more: false, must_refetch: true };
    const deadline = Date.now() + waitMs;
    const generation = this.generation;
    let page = await this.page(after, limit);
    const waiting = (): boolean =>
      Date.now() < deadline && !signal.aborted && !this.closed && generation === this.generation;
    while (page.customers.length === 0 && waiting()) {
      await this.waitForChange(deadline, signal);
      page = await this.page(after, limit);
    }
    const last = page.customers.at(-1);
    return {
      customers: page.customers,
      cursor: String(last ? last.version : after),
      has_more: page.hasMore,
      must_refetch: false,
    };
  }

  /** Resolves when the tail moves on, at `deadline`, when `signal` aborts or the feed closes. */
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
    this.wakeWaiters();
    await this.unlisten?.();
    await this.reading?.catch(() => undefined);
  }

  private async page(after: number, limit: number): Promise<TailPage> {
    if (this.tail.covers(after)) return this.tail.page(after, limit);
    // Further behind than the tail reaches (a new or long-offline kiosk): the database answers.
    const page = await this.count('behind', customersChangedSince(this.db, after, limit));
    return { customers: page.customers.map(toCustomerRecord), hasMore: page.hasMore };
  }

  private wake(): void {
    this.refresh().catch((error: unknown) => this.log.warn({ err: error }, 'change feed read failed'));
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
    const tail = this.tail;
    const before = tail.head;
    for (let read = 0; ; ) {
      const batch = Math.min(READ_BATCH, this.tailSize);
      const page = await this.count('tail', customersChangedSince(this.db, tail.head, batch));
      if (this.tail !== tail) return; // rebuilt meanwhile (a restore noticed): this read is moot
      tail.append(page.customers.map(toCustomerRecord));
      if (!page.hasMore) break;
      read += page.customers.length;
      // More changed than the tail holds (a bulk import): start it afresh from the newest rather
      // than read every row; kiosks further back read the database.
      if (read >= this.tailSize) {
        const fresh = await warmTail(this.db, this.tailSize);
        if (this.tail === tail) this.tail = fresh;
        break;
      }
    }
    if (this.tail.head > before) this.wakeWaiters();
  }

  /** The periodic read while long-polls wait; also notices a database replaced under the cloud (a restore). */
  private async recheckNow(): Promise<void> {
    try {
      await this.refresh();
      if ((await this.count('cursor', currentVersion(this.db))) >= this.tail.head) return;
      this.log.warn({ head: this.tail.head }, 'customer versions went back (database restored?): change feed reset');
      this.tail = await warmTail(this.db, this.tailSize);
      this.generation += 1;
      this.wakeWaiters();
    } catch (error) {
      this.log.warn({ err: error }, 'change feed recheck failed');
    }
  }

  private wakeWaiters(): void {
    for (const done of [...this.waiting]) done();
  }

  private count<T>(query: 'tail' | 'behind' | 'cursor', result: Promise<T>): Promise<T> {
    this.metrics.changeFeedQueries.inc({ query });
    return result;
  }
}

/** A tail holding the `size` latest changes, so kiosks reconnecting after a restart are answered from memory. */
async function warmTail(db: Db, size: number): Promise<CustomerTail> {
  const latest = await latestChangedCustomers(db, size);
  const oldest = latest[0];
  const tail = new CustomerTail(size, latest.length === size && oldest ? oldest.version - 1 : 0);
  tail.append(latest.map(toCustomerRecord));
  return tail;
}
