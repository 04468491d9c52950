import { EventEmitter } from 'node:events';
import type { Db } from '../store/db.js';
import { CUSTOMERS_CHANGED_CHANNEL } from '../store/migrations.js';

/** How often a long-poll looks again even without a notification (a lost LISTEN connection). */
const RECHECK_MS = 1000;

/**
 * Wakes long-polling gateways when customers change. Postgres NOTIFYs on commit (a trigger on
 * `customers`), which reaches this instance whichever instance made the change; PGlite delivers
 * the same NOTIFY in process.
 */
export class ChangeFeed {
  private readonly emitter = new EventEmitter();
  private unlisten: (() => Promise<void>) | undefined;
  /** Set when the cloud shuts down: long-polls answer at once instead of holding the server open. */
  closed = false;

  static async open(db: Db): Promise<ChangeFeed> {
    const feed = new ChangeFeed();
    feed.emitter.setMaxListeners(0);
    feed.unlisten = await db.listen(CUSTOMERS_CHANGED_CHANNEL, () => feed.emitter.emit('change'));
    return feed;
  }

  /** Resolves on the next change, after RECHECK_MS, at `deadline`, or when `signal` aborts, whichever is first. */
  waitForChange(deadline: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.emitter.off('change', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(RECHECK_MS, deadline - Date.now())));
      this.emitter.once('change', done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.emitter.emit('change');
    await this.unlisten?.();
  }
}
