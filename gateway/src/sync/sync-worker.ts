import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_PUSH_BATCH, type CustomerRecord } from '@tusafishe/protocol';
import type { GatewayEvents } from '../events.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { createCloudClient, type CloudClient, type PulledPage, type SkippedRecord } from './cloud-client.js';
import type { SyncConfig } from './sync-config.js';
import { SyncError } from './sync-error.js';
import type { SyncMetrics } from './sync-metrics.js';
import { readSyncStatus, SKIPPED_SHOWN, type LiveSyncFacts, type SyncStatus } from './sync-status.js';
import { SyncStore } from './sync-store.js';

const DAY_MS = 86_400_000;

export interface SyncWorkerOptions {
  store: Store;
  config: SyncConfig;
  /** The kiosk's offline threshold (Settings.offlineAfterMs): long-polls stay well inside it. */
  offlineAfterMs: number;
  logger: Logger;
  /** Pushes start at once when a dispense is recorded instead of at the next idle check. */
  events?: GatewayEvents;
  metrics?: SyncMetrics;
  fetch?: typeof fetch;
  backoff?: BackoffOptions;
  /** How often an idle push loop looks for new events. */
  pushIdleMs?: number;
  now?: () => number;
  /**
   * Follow only the balances of the kiosk's own customers (ARCHITECTURE §7, _A kiosk's SD card_):
   * anyone else's is asked of the cloud with `lookup`. Without it, every pulled change is written.
   */
  following?: { followForMs: number; lookupTimeoutMs: number };
}

export interface SyncWorker {
  status(): SyncStatus;
  /** Push now (e.g. after a ledger event was written). */
  nudge(): void;
  close(): Promise<void>;
  /**
   * With `following`: the customer's current record asked of the cloud, and written; null when the
   * cloud does not know them, cannot be asked in time, or was out of reach at the last pull or push
   * (then it is not asked).
   */
  lookup?(accountId: string): Promise<CustomerRecord | null>;
}

/** Pause between pulls when the cloud is caught up and no long-poll fits in the offline threshold. */
const SHORT_POLL_PAUSE_MS = 1000;

/**
 * Two independent loops over async HTTP, each resuming from SQLite after any failure:
 * the pull loop keeps the customer replica current (the customer stream once caught up), the push
 * loop sends unacknowledged ledger events oldest first. SQLite work is one short
 * transaction per page/batch, so dispensing on the same database is never held up.
 */
export function startSyncWorker(options: SyncWorkerOptions): SyncWorker {
  const { config, logger, following } = options;
  const now = options.now ?? Date.now;
  const store = new SyncStore(
    options.store,
    following && { kioskId: config.kioskId, followForMs: following.followForMs },
  );
  const client: CloudClient = createCloudClient({ ...config, ...(options.fetch && { fetch: options.fetch }) });
  // The gateway's days, rounded up: the cloud may send a little more, never less than it follows.
  const followDays = following && Math.ceil(following.followForMs / DAY_MS);
  /** Only a replica holding every customer may be sent its own customers' balances alone. */
  const filtered = (): number | undefined => (store.state().refetching ? undefined : followDays);
  const stop = new AbortController();
  const longPollS = Math.max(0, Math.min(config.longPollS, Math.floor(options.offlineAfterMs / 3000)));
  const live: LiveSyncFacts = {
    enabled: true,
    disabledReason: null,
    kioskId: config.kioskId,
    cloudUrl: config.cloudUrl,
    online: false,
    lastError: null,
    recordsSkipped: 0,
    skippedRecords: [],
  };
  let wakePush: (() => void) | null = null;
  let wakeRebuild: (() => void) | null = null;

  function succeeded(): void {
    if (!live.online) logger.info({ cloud: config.cloudUrl }, 'sync: cloud reachable');
    live.online = true;
  }

  function failed(operation: 'pull' | 'push', error: unknown): void {
    const code = error instanceof SyncError ? error.code : 'SYNC_FAILED';
    const message = error instanceof Error ? error.message : String(error);
    live.lastError = { code, message, at: now() };
    options.metrics?.failed(operation);
    // One warning per outage, not one per retry.
    if (live.online || (error instanceof SyncError && error.code !== 'CLOUD_UNREACHABLE')) {
      logger.warn({ operation, code, err: message }, 'sync: cloud request failed, retrying with backoff');
    } else {
      logger.debug({ operation, code, err: message }, 'sync: cloud still unreachable');
    }
    live.online = false;
  }

  /** A record the cloud sent that this gateway cannot hold: skipped so sync carries on, and reported. */
  function reportSkipped(skipped: readonly SkippedRecord[]): void {
    const at = now();
    for (const record of skipped) {
      logger.error(record, 'sync: skipped a customer record that fails validation');
      live.skippedRecords.push({ ...record, at });
    }
    live.skippedRecords.splice(0, Math.max(0, live.skippedRecords.length - SKIPPED_SHOWN));
    live.recordsSkipped += skipped.length;
    options.metrics?.skipped(skipped.length);
  }

  function pull(cursor: string | null, waitS: number): Promise<PulledPage> {
    return client.pull({ cursor, limit: config.pageSize, waitS, signal: stop.signal, followDays: filtered() });
  }

  /** Writes one page of the feed, or starts a refetch; whether the replica has caught up. */
  async function take(page: PulledPage, backoff: Backoff): Promise<boolean> {
    const state = store.state();
    if (page.must_refetch) {
      if (state.cursor === null)
        throw new SyncError('CLOUD_BAD_RESPONSE', 'cloud asked to refetch from the start of the feed');
      logger.warn({ cursor: state.cursor }, 'sync: cloud invalidated the cursor; pulling the whole replica again');
      store.startRefetch(now());
      // A cloud that keeps invalidating cursors must not be hammered.
      if (state.refetching) await sleep(backoff.fail(), undefined, { signal: stop.signal });
      return false;
    }
    await store.applyPage(page, now());
    if (store.state().refetchBoundary !== null) wakeRebuild?.();
    options.metrics?.pulled(page.customers.length);
    if (page.skipped.length > 0) reportSkipped(page.skipped);
    return !page.has_more;
  }

  /**
   * Once caught up, the replica follows the cloud's customer stream: a change arrives on the open
   * response as the cloud publishes it, where a long-poll costs a request per page. Returns when
   * the cloud ends the stream (a refetch, a restart); whether the replica is still caught up.
   */
  async function follow(backoff: Backoff): Promise<boolean> {
    let caughtUp = true;
    let pages = 0;
    const stream = client.follow({
      cursor: store.state().cursor,
      limit: config.pageSize,
      heartbeatS: longPollS,
      signal: stop.signal,
      followDays: filtered(),
    });
    for await (const page of stream) {
      pages += 1;
      caughtUp = await take(page, backoff);
      succeeded();
      backoff.reset();
    }
    // Ended before its first page: met as a failure, so a cloud that keeps ending it is not hammered.
    if (pages === 0) throw new SyncError('CLOUD_UNREACHABLE', 'cloud ended the customer stream at once');
    return caughtUp;
  }

  async function pullLoop(): Promise<void> {
    const backoff = new Backoff(options.backoff);
    let caughtUp = false;
    // A cloud without the stream (older than this gateway) is long-polled instead.
    let streaming = longPollS > 0;
    // While the cloud has more, the next page is asked for before this one is written, so a first
    // replica takes as long as the slower of the cloud and SQLite, not the sum of both.
    let ahead: { cursor: string; page: Promise<PulledPage> } | undefined;
    while (!stop.signal.aborted) {
      try {
        // Not while a refetched replica is being built: the stream, open for days, would stay unfiltered.
        if (caughtUp && streaming && !store.state().refetching) {
          caughtUp = await follow(backoff).catch((error: unknown) => {
            if (!(error instanceof SyncError && error.details?.['status'] === 404)) throw error;
            streaming = false;
            logger.info('sync: the cloud has no customer stream; long-polling instead');
            return true;
          });
          continue;
        }
        const state = store.state();
        const next: Promise<PulledPage> =
          ahead?.cursor === state.cursor ? ahead.page : pull(state.cursor, caughtUp ? longPollS : 0);
        ahead = undefined;
        const page = await next;
        if (page.has_more && !page.must_refetch) {
          ahead = { cursor: page.cursor, page: pull(page.cursor, 0) };
          // Its failure is met when it is awaited, or never if this page cannot be written.
          ahead.page.catch(() => undefined);
        }
        caughtUp = await take(page, backoff);
        succeeded();
        backoff.reset();
        if (caughtUp && longPollS === 0) await sleep(SHORT_POLL_PAUSE_MS, undefined, { signal: stop.signal });
      } catch (error) {
        ahead = undefined;
        if (stop.signal.aborted) return;
        failed('pull', error);
        caughtUp = false;
        await sleep(backoff.fail(), undefined, { signal: stop.signal }).catch(() => undefined);
      }
    }
  }

  async function pushLoop(): Promise<void> {
    const backoff = new Backoff(options.backoff);
    while (!stop.signal.aborted) {
      try {
        const batch = store.pendingBatch(MAX_PUSH_BATCH);
        if (batch.length === 0) {
          await idle(options.pushIdleMs ?? 1000);
          continue;
        }
        const response = await client.push(batch, stop.signal);
        store.applyPushResponse(response, now());
        options.metrics?.pushed(response.acked.length);
        for (const rejection of response.rejected) logger.error({ rejection }, 'sync: cloud refused a ledger event');
        succeeded();
        backoff.reset();
      } catch (error) {
        if (stop.signal.aborted) return;
        failed('push', error);
        await sleep(backoff.fail(), undefined, { signal: stop.signal }).catch(() => undefined);
      }
    }
  }

  /**
   * Finishes a refetch whose feed is exhausted (builds the new replica in slices and swaps it in)
   * and clears what a build leaves behind, beside the pull loop, which keeps staging what changes.
   */
  async function rebuildLoop(): Promise<void> {
    const backoff = new Backoff(options.backoff);
    while (!stop.signal.aborted) {
      let wait = 60_000;
      try {
        const building = store.state().refetchBoundary !== null;
        if ((await store.finishRefetch(stop.signal)) && building)
          logger.info({ replica_size: store.replicaSize() }, 'sync: new replica swapped in');
        backoff.reset();
      } catch (error) {
        if (stop.signal.aborted) return;
        logger.error({ err: error }, 'sync: building the new replica failed, retrying');
        wait = backoff.fail();
      }
      // A feed exhausted while this loop was busy: no wake came, build now.
      if (wait !== 60_000 || store.state().refetchBoundary === null) await idle(wait, (wake) => (wakeRebuild = wake));
    }
  }

  function idle(ms: number, onWake: (wake: (() => void) | null) => void = (wake) => (wakePush = wake)): Promise<void> {
    // Stopped already (e.g. a rebuild slice saw it): an 'abort' event would never come.
    if (stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stop.signal.removeEventListener('abort', done);
        onWake(null);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stop.signal.addEventListener('abort', done);
      onWake(done);
    });
  }

  async function lookup(accountId: string, timeoutMs: number): Promise<CustomerRecord | null> {
    // A cloud the last pull or push could not reach would only keep the customer waiting.
    if (!live.online) return null;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const abort = (): void => timeout.abort();
    stop.signal.addEventListener('abort', abort);
    try {
      const record = await client.customer(accountId, timeout.signal);
      if (record) store.applyLookup(record);
      return record;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.warn({ account_id: accountId, err: message }, 'sync: could not ask the cloud for a balance');
      return null;
    } finally {
      clearTimeout(timer);
      stop.signal.removeEventListener('abort', abort);
    }
  }

  const nudge = (): void => wakePush?.();
  const listeners = options.events?.scope();
  listeners?.on('dispense-recorded', nudge);
  listeners?.on('token-redeemed', nudge);
  logger.info({ cloud: config.cloudUrl, kiosk: config.kioskId, longPollS }, 'sync: started');
  const loops = Promise.all([pullLoop(), pushLoop(), rebuildLoop()]);

  return {
    status: () => readSyncStatus(store, live, options.offlineAfterMs, now()),
    nudge,
    ...(following && { lookup: (accountId: string) => lookup(accountId, following.lookupTimeoutMs) }),
    async close() {
      if (stop.signal.aborted) return;
      listeners?.dispose();
      stop.abort();
      await loops;
      try {
        store.flush(now());
      } catch (error) {
        // A full or failed disk: the stored cursor is older, so a restart pulls those pages again.
        logger.warn({ err: error }, 'sync: could not store the cursor at close');
      }
    },
  };
}
