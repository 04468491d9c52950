/**
 * Lightweight kiosks: each speaks the real kiosk API (protocol/src/sync.ts) with its own
 * credentials, cursor and long-poll, and pushes its six dispensers' ledger events as a gateway
 * does (one push loop; events that arrive while a push is in flight go in the next batch).
 * Many run in one worker process; the driver sends the work and collects the figures.
 */
import {
  newId,
  SYNC_PATHS,
  type CustomerRecord,
  type LedgerEvent,
  type PullResponse,
  type PushResponse,
} from '@tusafishe/protocol';
import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { accountId } from './database.js';
import { Histogram } from './histogram.js';
import { closeConnections, followLines, request } from './http.js';

export interface KioskCredentials {
  id: string;
  secret: string;
  /** The kiosk's place among the fleet's lightweight kiosks, from 0: which customers are its own. */
  slot: number;
}

/** The `follow_days` the kiosks ask with when they follow their own customers (the gateways' default). */
const FOLLOW_DAYS = 30;

export interface WorkerStart {
  type: 'start';
  cloudUrl: string;
  /** Where every kiosk's cursor starts: the kiosks already hold the replica. */
  cursor: number;
  kiosks: KioskCredentials[];
  /** Customers FB00000001 … FB<dispensing> dispense; higher indexes are top-up accounts. */
  dispensing: number;
  dispensers: number;
  dispenseEveryMs: number;
  longPollS: number;
  /** Long-poll the feed instead of following its stream (`--long-poll`: how kiosks synced before the stream). */
  longPoll: boolean;
  /** Each kiosk also sends one pull that does not wait this often (pull_p99_ms). */
  probeEveryMs: number;
  /**
   * With the number of lightweight kiosks, each follows its own customers (`follow_days`): kiosk
   * `slot` dispenses to customers `slot + 1`, `slot + 1 + n`, …, and top-up account `i` is the
   * customer of kiosk `i mod n` (bench/fleet/database.ts), the one kiosk that must receive it.
   * Without, every kiosk is sent every change and must receive every top-up.
   */
  ownCustomers: number | undefined;
}

export type WorkerCommand =
  | WorkerStart
  | { type: 'measure' }
  | { type: 'confirmed'; index: number; at: number }
  | { type: 'quiesce' }
  | { type: 'report' }
  | { type: 'stop' };

export interface WorkerReport {
  type: 'report';
  topup: [number, number][];
  push: [number, number][];
  pull: [number, number][];
  pushes: number;
  eventsAcked: number;
  /** Pull answers and the customer records they carried. */
  pulls: number;
  records: number;
  /** The pulls' bodies as sent (gzipped when the cloud did): the kiosks' 4G data for the feed. */
  pullBytes: number;
  errors: number;
  startupErrors: number;
  errorSamples: string[];
  /** Failed requests by kind (the message with its numbers blanked): which requests fail, and how. */
  errorKinds: Record<string, number>;
  /** Top-up index → kiosks of this worker that did not receive it. */
  missing: Record<number, number>;
  duplicates: number;
  /** This worker's event-loop delay over the window: its own queueing is in its latencies too. */
  loopP99Ms: number;
  loopMaxMs: number;
}

const PULL_LIMIT = 2000;
const STARTING_TOGETHER = 25;
const FIRST_PULL_TRIES = 5;
const REQUEST_TIMEOUT_MS = 15_000;

interface TopUpSeen {
  confirmedAt?: number;
  /** Arrival times at kiosks before the driver's confirmation message reached this worker. */
  early: number[];
  kiosks: number;
}

class Figures {
  topup = new Histogram();
  push = new Histogram();
  pull = new Histogram();
  pushes = 0;
  eventsAcked = 0;
  pulls = 0;
  records = 0;
  pullBytes = 0;
  errors = 0;
  errorSamples: string[] = [];
  errorKinds: Record<string, number> = {};
  duplicates = 0;
  readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.loopDelay.enable();
  }

  error(what: string): void {
    this.errors += 1;
    if (this.errorSamples.length < 10) this.errorSamples.push(what);
    const kind = what.replace(/\d+/g, 'N').slice(0, 80);
    this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
  }
}

class Worker {
  private figures = new Figures();
  private readonly topUps = new Map<number, TopUpSeen>();
  private readonly stopping = new AbortController();
  private quiet = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private kiosks: Kiosk[] = [];
  /** Failed requests while the kiosks started (before the window). */
  private startupErrors = 0;

  constructor(private readonly start: WorkerStart) {
    // Every kiosk's stream listens to it.
    setMaxListeners(Number.POSITIVE_INFINITY, this.stopping.signal);
  }

  /**
   * Starts the kiosks a few at a time (each first request costs the cloud a credential check),
   * each then long-polling; they dispense from `produce()`. A kiosk whose first pull fails is
   * counted and long-polls all the same (it retries, as a gateway does).
   */
  async begin(): Promise<void> {
    this.kiosks = this.start.kiosks.map((credentials) => new Kiosk(this, credentials, this.start));
    for (let i = 0; i < this.kiosks.length; i += STARTING_TOGETHER)
      await Promise.all(this.kiosks.slice(i, i + STARTING_TOGETHER).map((kiosk) => kiosk.begin()));
  }

  /** The peak-hour work: dispensers and pull probes. */
  produce(): void {
    for (const kiosk of this.kiosks) kiosk.produce();
  }

  get settings(): WorkerStart {
    return this.start;
  }

  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  get measuring(): Figures {
    return this.figures;
  }

  get producing(): boolean {
    return !this.quiet && !this.stopping.signal.aborted;
  }

  every(ms: number, firstInMs: number, run: () => void): void {
    const tick = (): void => {
      this.timers.delete(timer);
      if (!this.producing) return;
      run();
      timer = setTimeout(tick, ms);
      this.timers.add(timer);
    };
    let timer = setTimeout(tick, firstInMs);
    this.timers.add(timer);
  }

  /** How many of this worker's kiosks must receive top-up `index`. */
  private expected(index: number): number {
    const { ownCustomers, kiosks } = this.start;
    if (ownCustomers === undefined) return kiosks.length;
    return kiosks.filter((kiosk) => kiosk.slot === index % ownCustomers).length;
  }

  /** A kiosk received a top-up account's credited record. */
  seen(index: number): void {
    const entry = this.topUp(index);
    entry.kiosks += 1;
    if (entry.kiosks > this.expected(index)) this.figures.duplicates += 1;
    const now = Date.now();
    if (entry.confirmedAt === undefined) entry.early.push(now);
    else this.figures.topup.record(now - entry.confirmedAt);
  }

  confirmed(index: number, at: number): void {
    const entry = this.topUp(index);
    entry.confirmedAt = at;
    for (const arrived of entry.early.splice(0)) this.figures.topup.record(arrived - at);
  }

  private topUp(index: number): TopUpSeen {
    let entry = this.topUps.get(index);
    if (!entry) {
      entry = { early: [], kiosks: 0 };
      this.topUps.set(index, entry);
    }
    return entry;
  }

  measure(): void {
    this.startupErrors = this.figures.errors;
    this.figures.loopDelay.disable();
    this.figures = new Figures();
    this.topUps.clear();
  }

  quiesce(): void {
    this.quiet = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  report(): WorkerReport {
    const missing: Record<number, number> = {};
    for (const [index, entry] of this.topUps) {
      if (entry.confirmedAt !== undefined && entry.kiosks < this.expected(index))
        missing[index] = this.expected(index) - entry.kiosks;
    }
    const f = this.figures;
    return {
      type: 'report',
      topup: f.topup.toJSON(),
      push: f.push.toJSON(),
      pull: f.pull.toJSON(),
      pushes: f.pushes,
      eventsAcked: f.eventsAcked,
      pulls: f.pulls,
      records: f.records,
      pullBytes: f.pullBytes,
      errors: f.errors,
      startupErrors: this.startupErrors,
      errorSamples: f.errorSamples,
      errorKinds: f.errorKinds,
      missing,
      duplicates: f.duplicates,
      loopP99Ms: f.loopDelay.percentile(99) / 1e6,
      loopMaxMs: f.loopDelay.max / 1e6,
    };
  }

  stop(): void {
    this.quiesce();
    this.stopping.abort();
    closeConnections();
  }
}

interface PageSummary extends Omit<PullResponse, 'customers'> {
  records: number;
  /** Indexes of the top-up accounts whose credited record the page carries. */
  topUps: number[];
}

const RECORD_START = Buffer.from('{"account_id":"');
const TRAILER = Buffer.from('],"cursor":');

/**
 * What a kiosk of the bench needs from a page, read without decoding it whole (600 kiosks receive
 * tens of thousands of records a second; the load generator shares the cloud's cores): the
 * trailer, the number of records, and the few top-up accounts' records, parsed alone. Anything
 * laid out otherwise than the cloud serialises it is parsed whole.
 */
function readPage(body: Buffer, dispensing: number): PageSummary {
  const trailer = body.lastIndexOf(TRAILER);
  if (!body.subarray(0, 14).equals(Buffer.from('{"customers":[')) || trailer < 0) return parsedWhole(body, dispensing);
  const { cursor, has_more, must_refetch } = JSON.parse(`{${body.subarray(trailer + 2).toString()}`) as PullResponse;
  const topUps: number[] = [];
  let records = 0;
  for (let at = body.indexOf(RECORD_START); at >= 0 && at < trailer; at = body.indexOf(RECORD_START, at + 1)) {
    records += 1;
    const idStart = at + RECORD_START.length;
    if (body[idStart] !== 0x46 || body[idStart + 1] !== 0x42) continue; // not an "FB…" bench account
    const index = Number(body.subarray(idStart + 2, idStart + 10).toString());
    if (!(index > dispensing)) continue;
    const record = parsedRecord(body.subarray(at, body.indexOf('}', at) + 1));
    if (!record) return parsedWhole(body, dispensing);
    if (record.balance_ml > 0) topUps.push(index);
  }
  return { cursor, has_more, must_refetch, records, topUps };
}

/** One record, cut at its first `}`: undefined when a string inside held one. */
function parsedRecord(slice: Buffer): CustomerRecord | undefined {
  try {
    return JSON.parse(slice.toString()) as CustomerRecord;
  } catch {
    return undefined;
  }
}

function parsedWhole(body: Buffer, dispensing: number): PageSummary {
  const page = JSON.parse(body.toString()) as PullResponse;
  const topUps = page.customers
    .map((customer) => ({ index: Number(customer.account_id.slice(2)), balance: customer.balance_ml }))
    .filter((customer) => customer.index > dispensing && customer.balance > 0)
    .map((customer) => customer.index);
  return { ...page, records: page.customers.length, topUps };
}

class Kiosk {
  private cursor: number;
  private readonly authorization: string;
  private readonly queue: LedgerEvent[] = [];
  private pushing = false;

  constructor(
    private readonly worker: Worker,
    private readonly credentials: KioskCredentials,
    private readonly settings: WorkerStart,
  ) {
    this.cursor = settings.cursor;
    this.authorization = `Basic ${Buffer.from(`${credentials.id}:${credentials.secret}`).toString('base64')}`;
  }

  /** The first pull (the cloud checks the credential once), then following the customer stream as a gateway does. */
  async begin(): Promise<void> {
    for (let attempt = 1; attempt <= FIRST_PULL_TRIES && !(await this.pull(0)); attempt++)
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    void (this.settings.longPoll ? this.pullLoop() : this.followLoop());
  }

  produce(): void {
    const { dispensers, dispenseEveryMs, probeEveryMs } = this.settings;
    for (let d = 1; d <= dispensers; d++)
      this.worker.every(dispenseEveryMs, Math.random() * dispenseEveryMs, () => this.dispense(`D${d}`));
    this.worker.every(probeEveryMs, Math.random() * probeEveryMs, () => void this.probe());
  }

  private url(waitS: number, path: string = SYNC_PATHS.customers): string {
    const follow = this.settings.ownCustomers === undefined ? '' : `&follow_days=${FOLLOW_DAYS}`;
    return `${this.settings.cloudUrl}${path}?cursor=${this.cursor}&limit=${PULL_LIMIT}&wait_s=${waitS}${follow}`;
  }

  /** One pull; applies the page (cursor, top-ups seen). Undefined on an error (counted). */
  private async pull(waitS: number): Promise<PageSummary | undefined> {
    try {
      const answer = await request(this.url(waitS), {
        headers: { authorization: this.authorization },
        timeoutMs: REQUEST_TIMEOUT_MS + waitS * 1000,
      });
      if (answer.status !== 200) {
        this.worker.measuring.error(`pull ${answer.status} ${answer.body.toString().slice(0, 120)}`);
        return undefined;
      }
      return this.take(answer.body, answer.wireBytes);
    } catch (error) {
      if (!this.worker.signal.aborted) this.worker.measuring.error(`pull: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** One page received: its records counted, the top-ups it carries seen, the cursor moved. */
  private take(body: Buffer, wireBytes: number): PageSummary {
    const page = readPage(body, this.settings.dispensing);
    const figures = this.worker.measuring;
    figures.pulls += 1;
    figures.records += page.records;
    figures.pullBytes += wireBytes;
    if (page.must_refetch) figures.error(`pull: must_refetch at cursor ${this.cursor}`);
    for (const index of page.topUps) this.worker.seen(index);
    this.cursor = Number(page.cursor);
    return page;
  }

  /** The customer stream, opened again from the cursor whenever it ends (the cloud restarting, an error). */
  private async followLoop(): Promise<void> {
    while (!this.worker.signal.aborted) {
      const url = this.url(this.settings.longPollS, SYNC_PATHS.customerStream);
      try {
        await followLines(
          url,
          {
            headers: { authorization: this.authorization },
            idleTimeoutMs: REQUEST_TIMEOUT_MS + this.settings.longPollS * 1000,
            signal: this.worker.signal,
          },
          (line, wireBytes) => this.take(line, wireBytes),
        );
      } catch (error) {
        if (this.worker.signal.aborted) return;
        this.worker.measuring.error(`stream: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private async pullLoop(): Promise<void> {
    let caughtUp = true;
    while (!this.worker.signal.aborted) {
      const page = await this.pull(caughtUp ? this.settings.longPollS : 0);
      if (!page) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      caughtUp = !page.has_more;
    }
  }

  /** A pull that does not wait, from where this kiosk is: what a kiosk back online asks first. */
  private async probe(): Promise<void> {
    const started = performance.now();
    try {
      const answer = await request(this.url(0), {
        headers: { authorization: this.authorization },
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      if (answer.status !== 200) this.worker.measuring.error(`probe ${answer.status}`);
      else this.worker.measuring.pull.record(performance.now() - started);
    } catch (error) {
      if (!this.worker.signal.aborted) this.worker.measuring.error(`probe: ${(error as Error).message}`);
    }
  }

  /** A customer of this kiosk's (any, when kiosks are sent every change). */
  private customer(): number {
    const { dispensing, ownCustomers } = this.settings;
    const own = ownCustomers === undefined ? 0 : Math.floor(dispensing / ownCustomers);
    if (own === 0) return 1 + Math.floor(Math.random() * dispensing);
    return 1 + this.credentials.slot + ownCustomers! * Math.floor(Math.random() * own);
  }

  private dispense(dispenserId: string): void {
    const index = this.customer();
    this.queue.push({
      event_id: newId(),
      type: 'dispense',
      account_id: accountId(index),
      amount_ml: -1000 * (1 + Math.floor(Math.random() * 20)),
      kiosk_id: this.credentials.id,
      dispenser_id: dispenserId,
      source_id: newId(),
      occurred_at: Date.now(),
    });
    void this.push();
  }

  private async push(): Promise<void> {
    if (this.pushing || this.queue.length === 0) return;
    this.pushing = true;
    const batch = this.queue.splice(0, 500);
    const figures = this.worker.measuring;
    const started = performance.now();
    let failed = false;
    try {
      const answer = await request(`${this.settings.cloudUrl}${SYNC_PATHS.events}`, {
        method: 'POST',
        headers: { authorization: this.authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ events: batch }),
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      figures.push.record(performance.now() - started);
      figures.pushes += 1;
      if (answer.status !== 200) {
        figures.error(`push ${answer.status} ${answer.body.toString().slice(0, 120)}`);
        failed = true;
      } else {
        const result = JSON.parse(answer.body.toString()) as PushResponse;
        figures.eventsAcked += result.acked.length;
        if (result.rejected.length > 0) figures.error(`push rejected ${JSON.stringify(result.rejected[0])}`);
      }
    } catch (error) {
      if (!this.worker.signal.aborted) figures.error(`push: ${(error as Error).message}`);
      failed = true;
    }
    if (failed) {
      // As a gateway does: keep the batch and try again after a pause.
      this.queue.unshift(...batch);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    this.pushing = false;
    if (this.queue.length > 0 && this.worker.producing) void this.push();
  }
}

/** Entry of a worker process (`bench/fleet.ts --role kiosks`): obeys the driver's commands over IPC. */
export function runKioskWorker(): void {
  let worker: Worker | undefined;
  process.on('message', (command: WorkerCommand) => {
    switch (command.type) {
      case 'start':
        worker = new Worker(command);
        void worker.begin().then(() => process.send?.({ type: 'ready' }));
        break;
      case 'measure':
        worker?.measure();
        worker?.produce();
        break;
      case 'confirmed':
        worker?.confirmed(command.index, command.at);
        break;
      case 'quiesce':
        worker?.quiesce();
        break;
      case 'report':
        if (worker) process.send?.(worker.report());
        break;
      case 'stop':
        worker?.stop();
        process.disconnect();
        break;
    }
  });
  process.once('disconnect', () => {
    worker?.stop();
    setTimeout(() => process.exit(0), 100).unref();
  });
}
