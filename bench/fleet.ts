/**
 * Fleet benchmark (issue 14): one cloud on the PostgreSQL server with a million customers, and
 * N kiosks speaking the real kiosk API at peak hour — each kiosk's six dispensers dispense every
 * 30 s (ledger events pushed as a gateway pushes them) and follow the customer stream (or, with
 * `--long-poll`, long-poll) with their own credentials and cursor; across the fleet, customers top up by USSD and MTN MoMo at
 * 5 a second per 600 kiosks. Three of the kiosks are real gateway processes holding the whole
 * replica. Kiosks follow their own customers, as gateways do (`--follow own`, the default: sent
 * their own customers' balances and everyone's profile), or are sent every change (`--follow
 * all`). Measures, over one window: payment confirmed → the change held by every kiosk that must
 * have it (every top-up × kiosk pair: the customer's kiosk, or with `all` every kiosk), push and
 * pull latency, events/s, a kiosk's feed in MB a day, the cloud process's CPU and RSS, the
 * bench schema's size in PostgreSQL, and errors (any failed request, and every top-up × kiosk
 * pair not delivered by the end). Prints one JSON line per size; the last line is the verdict.
 *
 *   npm run bench:fleet                          # 60, 600, 5,000 kiosks (stops after a size with errors)
 *   npm run bench:fleet -- --kiosks 600          # one size
 *   npm run bench:fleet -- --kiosks 60 --seconds 20 --customers 100000 --gateways 1   # a quick look
 *   npm run bench:fleet -- --kiosks 600 --cpu-prof /tmp/prof   # V8 CPU profiles of the cloud and kiosk workers
 *   npm run bench:fleet -- --kiosks 600 --instances 2   # two cloud instances behind HAProxy (issue 14 §3)
 *   npm run bench:fleet -- --kiosks 600 --long-poll     # the kiosks long-poll, as gateways did before the stream
 *   npm run bench:fleet -- --kiosks 600 --kiosks-nice 0 # the kiosk workers at the cloud's priority (10 by default)
 *   npm run bench:fleet -- --kiosks 600 --follow all    # every kiosk is sent every change (before `follow_days`)
 *
 * PostgreSQL: DATABASE_URL, else TEST_DATABASE_URL, else the local server `.ci/run` sets up. The
 * bench works in its own schema and drops it at the end. Everything is on 127.0.0.1.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createKiosk } from '@tusafishe/cloud';
import { haproxyInstalled, loadBalancer, type RunningLoadBalancer } from '@tusafishe/cloud/load-balancer';
import { startMtnMomoSimulator } from '@tusafishe/cloud/mtn-simulator';
import { feedQueriesPerS, sampleCloud, serverPushes, type CloudSample } from './fleet/cloud-metrics.js';
import { runCloudProcess, type CloudReady } from './fleet/cloud-process.js';
import { BenchDatabase, resolveDatabaseUrl, tagged } from './fleet/database.js';
import { Histogram } from './fleet/histogram.js';
import {
  runKioskWorker,
  type KioskCredentials,
  type WorkerCommand,
  type WorkerReport,
  type WorkerStart,
} from './fleet/kiosk-clients.js';
import { cpuSeconds, machineCpu, rssMb } from './fleet/proc.js';
import { RealGateways } from './fleet/real-gateways.js';
import { TopUps } from './fleet/topups.js';

const SELF = fileURLToPath(import.meta.url);
const DEFAULT_SIZES = [60, 600, 5000];
const TARGETS = { topup_to_all_p99_ms: 2000, push_p99_ms: 200, errors: 0 };
/** Peak hour, per kiosk. */
const DISPENSERS = 6;
const DISPENSE_EVERY_MS = 30_000;
/** Across the fleet: top-ups per second per 600 kiosks. */
const TOPUPS_PER_S_PER_600 = 5;
const KIOSKS_PER_WORKER = 200;
/** After the window, how long top-ups still on their way may take to reach every kiosk. */
const DELIVERY_GRACE_MS = 30_000;

interface Options {
  sizes: number[];
  seconds: number;
  customers: number;
  gateways: number;
  /** Cloud instances on the one PostgreSQL; more than one are put behind HAProxy, round-robin. */
  instances: number;
  /** Where the cloud and kiosk processes write V8 CPU profiles (`--cpu-prof DIR`), if anywhere. */
  cpuProfDir: string | undefined;
  /** The lightweight kiosks long-poll (`--long-poll`) instead of following the customer stream, as gateways did before it. */
  longPoll: boolean;
  /**
   * The kiosk workers' niceness (`--kiosks-nice`, 10 by default; 0 as the cloud). The lightweight
   * kiosks stand in for devices with CPUs of their own: at the cloud's priority they took its
   * cores, and the cloud's event loop waited on them (bench/RESULTS.md § fleet).
   */
  kiosksNice: number;
  /**
   * `own` (`--follow`, the default, as gateways ask): the kiosks ask with `follow_days`, each
   * dispenses to customers of its own, and each top-up account was served lately at one kiosk,
   * which is the one that must receive the top-up. `all`: every kiosk is sent every change, and
   * every top-up must reach every kiosk.
   */
  follow: 'own' | 'all';
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      kiosks: { type: 'string' },
      seconds: { type: 'string', default: '120' },
      customers: { type: 'string', default: '1000000' },
      gateways: { type: 'string', default: '3' },
      instances: { type: 'string', default: '1' },
      'cpu-prof': { type: 'string' },
      'long-poll': { type: 'boolean', default: false },
      'kiosks-nice': { type: 'string', default: '10' },
      follow: { type: 'string', default: 'own' },
    },
  });
  const int = (name: string, raw: string, min: number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, not "${raw}"`);
    return value;
  };
  const gateways = int('gateways', values.gateways, 0);
  const instances = int('instances', values.instances, 1);
  if (instances > 1 && !haproxyInstalled())
    throw new Error('--instances needs HAProxy in front of the instances: apt-get install haproxy');
  return {
    sizes: values.kiosks ? [int('kiosks', values.kiosks, Math.max(1, gateways))] : DEFAULT_SIZES,
    seconds: int('seconds', values.seconds, 5),
    customers: int('customers', values.customers, 1000),
    gateways,
    instances,
    cpuProfDir: values['cpu-prof'],
    longPoll: values['long-poll'],
    kiosksNice: int('kiosks-nice', values['kiosks-nice'], 0),
    follow: followOption(values.follow),
  };
}

function followOption(raw: string): 'own' | 'all' {
  if (raw !== 'own' && raw !== 'all') throw new Error(`--follow must be own or all, not "${raw}"`);
  return raw;
}

/** Node flags for a child the bench forks: its own, plus a CPU profile when asked (written at its exit). */
function childExecArgv(options: Options): string[] {
  const profile = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  return [...process.execArgv, ...profile];
}

const log = (line: string): void => void process.stderr.write(`[fleet] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const round = (value: number, places = 1): number => Math.round(value * 10 ** places) / 10 ** places;

function mergeCounts(counts: Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const count of counts) for (const [key, n] of Object.entries(count)) merged[key] = (merged[key] ?? 0) + n;
  return merged;
}

/** Waits for the first IPC message that `accept` takes (or the child's exit). */
function nextMessage<T>(
  child: ChildProcess,
  accept: (message: unknown) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no answer from pid ${child.pid} in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown): void => {
      try {
        const value = accept(message);
        if (value !== undefined) finish(undefined, value);
      } catch (error) {
        finish(error as Error);
      }
    };
    const onExit = (code: number | null): void => finish(new Error(`pid ${child.pid} exited (${code})`));
    function finish(error: Error | undefined, value?: T): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (child.connected) child.disconnect();
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(kill);
}

class KioskWorkers {
  private constructor(private readonly children: ChildProcess[]) {}

  static async start(
    settings: Omit<WorkerStart, 'type' | 'kiosks'>,
    kiosks: KioskCredentials[],
    execArgv: string[],
    nice: number,
  ): Promise<KioskWorkers> {
    const count = Math.max(1, Math.ceil(kiosks.length / KIOSKS_PER_WORKER));
    const children = Array.from({ length: count }, () =>
      fork(SELF, ['--role', 'kiosks'], { stdio: 'inherit', execArgv }),
    );
    for (const child of children) if (child.pid && nice !== 0) setPriority(child.pid, nice);
    const workers = new KioskWorkers(children);
    try {
      await Promise.all(
        children.map((child, i) => {
          const ready = nextMessage(
            child,
            (m) => ((m as { type?: string }).type === 'ready' ? true : undefined),
            300_000,
          );
          child.send({
            type: 'start',
            ...settings,
            kiosks: kiosks.filter((_, k) => k % count === i),
          } satisfies WorkerCommand);
          return ready;
        }),
      );
    } catch (error) {
      await workers.stop();
      throw error;
    }
    return workers;
  }

  get pids(): number[] {
    return this.children.flatMap((child) => (child.pid ? [child.pid] : []));
  }

  send(command: WorkerCommand): void {
    for (const child of this.children) if (child.connected) child.send(command);
  }

  async reports(): Promise<WorkerReport[]> {
    return Promise.all(
      this.children.map((child) => {
        const report = nextMessage(
          child,
          (m) => ((m as WorkerReport).type === 'report' ? (m as WorkerReport) : undefined),
          60_000,
        );
        child.send({ type: 'report' } satisfies WorkerCommand);
        return report;
      }),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map(stopChild));
  }
}

interface Fixture {
  db: BenchDatabase;
  cloudUrl: string;
  /** One per cloud instance: their CPU and RSS are summed. */
  cloudPids: number[];
  /** Each instance's own address, for its /metrics. */
  instanceUrls: string[];
  /** Where each instance's stdout (its log) goes. */
  cloudLogs: string[];
  simulator: Awaited<ReturnType<typeof startMtnMomoSimulator>>;
  gateways: RealGateways;
  dispensing: number;
  topUpNext: number;
  customers: number;
}

function missingPairs(reports: WorkerReport[], gateways: RealGateways): number {
  return (
    reports.reduce((sum, report) => sum + Object.values(report.missing).reduce((a, b) => a + b, 0), 0) +
    gateways.missing
  );
}

/** One fleet size: its kiosks, a measured window at peak hour, its JSON line. */
async function runSize(fixture: Fixture, kiosks: number, options: Options): Promise<Record<string, unknown>> {
  const { db } = fixture;
  const lightweight = kiosks - fixture.gateways.count;
  log(`${kiosks} kiosks: provisioning ${lightweight} lightweight kiosks`);
  const credentials: KioskCredentials[] = [];
  for (let from = 0; from < lightweight; from += 50) {
    const batch = Array.from({ length: Math.min(50, lightweight - from) }, (_, i) => `F${kiosks}-${from + i + 1}`);
    const made = await Promise.all(batch.map((kioskId) => createKiosk(db, { kioskId })));
    credentials.push(...made.map((kiosk, i) => ({ id: kiosk.kioskId, secret: kiosk.secret, slot: from + i })));
  }
  // Before the kiosks' cursor is read: they hold these changes already.
  if (options.follow === 'own') await db.topUpAccountsServedAt(credentials.map((kiosk) => kiosk.id));
  const workers = await KioskWorkers.start(
    {
      cloudUrl: fixture.cloudUrl,
      cursor: await db.lastVersion(),
      dispensing: fixture.dispensing,
      dispensers: DISPENSERS,
      dispenseEveryMs: DISPENSE_EVERY_MS,
      longPollS: 25,
      longPoll: options.longPoll,
      probeEveryMs: 60_000,
      ownCustomers: options.follow === 'own' ? lightweight : undefined,
    },
    credentials,
    childExecArgv(options),
    options.kiosksNice,
  );
  const topUps = new TopUps(fixture.cloudUrl, fixture.simulator, fixture.topUpNext, fixture.customers, (index, at) => {
    workers.send({ type: 'confirmed', index, at });
    // Following their own customers, the gateways are sent none of these.
    if (options.follow === 'all') fixture.gateways.confirmed(index, at);
  });
  try {
    log(
      `${kiosks} kiosks: all ${options.longPoll ? 'long-polling' : 'following the stream'}; measuring for ${options.seconds} s`,
    );
    await sleep(2000);
    // From here the kiosks dispense; failed requests before are reported apart (startup_errors).
    workers.send({ type: 'measure' });
    fixture.gateways.watch();
    fixture.gateways.dispense(DISPENSE_EVERY_MS, fixture.dispensing);
    const pgPids = await db.cloudBackendPids();
    const loadProcs = [...workers.pids, process.pid];
    const samples = (): Promise<(CloudSample | undefined)[]> => Promise.all(fixture.instanceUrls.map(sampleCloud));
    const cloudBefore = await samples();
    const logBytes = (): number => sum(fixture.cloudLogs.map((file) => statSync(file).size));
    const before = {
      logBytes: logBytes(),
      at: performance.now(),
      wall: Date.now(),
      cloud: fixture.cloudPids.map(cpuSeconds),
      pg: pgPids.map(cpuSeconds),
      load: loadProcs.map(cpuSeconds),
      machine: machineCpu(),
    };
    const topUpRate = (TOPUPS_PER_S_PER_600 * kiosks) / 600;
    topUps.start(topUpRate);
    const cloudRss = fixture.cloudPids.map(() => 0);
    const end = performance.now() + options.seconds * 1000;
    while (performance.now() < end) {
      fixture.cloudPids.forEach((pid, i) => {
        cloudRss[i] = Math.max(cloudRss[i]!, rssMb(pid));
      });
      await sleep(Math.min(1000, Math.max(0, end - performance.now())));
    }
    topUps.stop().catch(() => undefined);
    workers.send({ type: 'quiesce' });
    fixture.gateways.stopDispensing();
    const seconds = (performance.now() - before.at) / 1000;
    const after = {
      logBytes: logBytes(),
      cloud: fixture.cloudPids.map(cpuSeconds),
      pg: pgPids.map(cpuSeconds),
      load: loadProcs.map(cpuSeconds),
      machine: machineCpu(),
    };
    const cloudAfter = await samples();
    const load = loadavg();
    const events = await db.dispensesSince(before.wall);
    await topUps.stop();
    fixture.topUpNext += topUps.started;

    // Every top-up confirmed in the window must reach every kiosk.
    const graceEnd = Date.now() + DELIVERY_GRACE_MS;
    let reports = await workers.reports();
    while (missingPairs(reports, fixture.gateways) > 0 && Date.now() < graceEnd) {
      await sleep(1000);
      reports = await workers.reports();
    }
    const topup = Histogram.fromJSON([]);
    const push = Histogram.fromJSON([]);
    const pull = Histogram.fromJSON([]);
    for (const report of reports) {
      topup.merge(Histogram.fromJSON(report.topup));
      push.merge(Histogram.fromJSON(report.push));
      pull.merge(Histogram.fromJSON(report.pull));
    }
    topup.merge(fixture.gateways.topup);
    const missing = missingPairs(reports, fixture.gateways);
    const duplicates = reports.reduce((sum, report) => sum + report.duplicates, 0);
    const requestErrors = reports.reduce((sum, report) => sum + report.errors, 0);
    const errors = requestErrors + topUps.errors + fixture.gateways.errors + missing + duplicates;
    for (const sample of [
      ...reports.flatMap((report) => report.errorSamples),
      ...topUps.errorSamples,
      ...fixture.gateways.errorSamples,
    ].slice(0, 10))
      log(`error: ${sample}`);
    if (missing > 0)
      log(`${missing} top-up × kiosk pairs not delivered within ${DELIVERY_GRACE_MS / 1000} s of the end`);
    const pct = (cpu: number): number => round((cpu / seconds) * 100);
    // Per process: one gone by the end (a pooled backend closed) reads 0, and its CPU is not known.
    const used = (from: number[], to: number[]): number[] => to.map((cpu, i) => (cpu > 0 ? cpu - from[i]! : 0));
    const cloudCpuByInstance = used(before.cloud, after.cloud).map(pct);
    const cloudCpu = pct(sum(used(before.cloud, after.cloud)));
    // Work the cloud did, whatever share of the CPU it got: its CPU per request served.
    const pushes = sum(reports.map((report) => report.pushes));
    const pulls = sum(reports.map((report) => report.pulls));
    const records = sum(reports.map((report) => report.records));
    const cloudCpuUs = sum(used(before.cloud, after.cloud)) * 1e6;
    const served = serverPushes(cloudBefore, cloudAfter, TARGETS.push_p99_ms / 1000);
    return {
      kiosks,
      customers: fixture.customers,
      topup_to_all_p50_ms: topup.percentile(50),
      topup_to_all_p99_ms: topup.percentile(99),
      push_p99_ms: push.percentile(99),
      pull_p99_ms: pull.percentile(99),
      events_per_s: round(events / seconds),
      cloud_cpu_pct: cloudCpu,
      cloud_rss_mb: round(sum(cloudRss)),
      cloud_log_kb_per_s: round((after.logBytes - before.logBytes) / 1024 / seconds),
      pg_db_mb: round(await db.sizeMb()),
      errors,
      seconds: round(seconds),
      topups: topUps.confirmed,
      topup_pairs: topup.count,
      gateways: fixture.gateways.count,
      gateway_topup_p99_ms: fixture.gateways.topup.percentile(99),
      push_p50_ms: push.percentile(50),
      // The cloud's own timing of the same pushes, and each process's event-loop delay: where a tail queues.
      push_served_within_200ms_pct: served.withinPct,
      push_served_p99_at_most_ms: served.p99AtMostMs,
      cloud_loop_p99_ms: cloudAfter.map((sample) => (sample ? round(sample.loopP99S * 1000) : null)),
      // The change feed's reads of PostgreSQL a second: `horizon` polls pg_locks for writers in flight.
      feed_queries_per_s: feedQueriesPerS(cloudBefore, cloudAfter, seconds),
      load_generator_loop_p99_ms: round(Math.max(...reports.map((report) => report.loopP99Ms))),
      load_generator_loop_max_ms: round(Math.max(...reports.map((report) => report.loopMaxMs))),
      pull_p50_ms: pull.percentile(50),
      instances: fixture.cloudPids.length,
      ...(fixture.cloudPids.length > 1 ? { cloud_cpu_pct_by_instance: cloudCpuByInstance } : {}),
      cloud_cpu_pct_per_100_kiosks: round((cloudCpu / kiosks) * 100, 2),
      kiosk_sync: options.longPoll ? 'long-poll' : 'stream',
      kiosk_follow: options.follow,
      kiosks_nice: options.kiosksNice,
      pushes,
      // Pages received: each a request when long-polling, each a line of one response on the stream.
      pulls,
      records_delivered: records,
      // A kiosk's mobile data for the change feed alone, at this fleet's rate of changes.
      kiosk_download_mb_per_day: round(
        ((sum(reports.map((report) => report.pullBytes)) / (kiosks - fixture.gateways.count) / seconds) * 86_400) / 1e6,
      ),
      // Per push or page sent (pages are requests only when long-polling).
      cloud_cpu_us_per_request: pushes + pulls > 0 ? Math.round(cloudCpuUs / (pushes + pulls)) : null,
      pg_cpu_pct: pct(sum(used(before.pg, after.pg))),
      load_generator_cpu_pct: pct(sum(used(before.load, after.load))),
      machine_cpu_pct: round(
        ((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * 100,
      ),
      loadavg_1m: round(load[0]!, 2),
      startup_errors: reports.reduce((sum, report) => sum + report.startupErrors, 0),
      errors_detail: {
        requests: requestErrors,
        requests_by_kind: mergeCounts(reports.map((report) => report.errorKinds)),
        topups: topUps.errors,
        gateways: fixture.gateways.errors,
        missing,
        duplicates,
      },
    };
  } finally {
    await topUps.stop();
    await workers.stop();
  }
}

function meetsTargets(line: Record<string, unknown>): boolean {
  return (
    typeof line['topup_to_all_p99_ms'] === 'number' &&
    line['topup_to_all_p99_ms'] <= TARGETS.topup_to_all_p99_ms &&
    typeof line['push_p99_ms'] === 'number' &&
    line['push_p99_ms'] <= TARGETS.push_p99_ms &&
    line['errors'] === TARGETS.errors
  );
}

/** What ran out first, read from the figures: a core for the cloud's event loop, PostgreSQL, or the machine. */
function saturated(line: Record<string, unknown>): string {
  const n = (key: string): number => Number(line[key] ?? 0);
  const busiest = Math.max(...((line['cloud_cpu_pct_by_instance'] as number[] | undefined) ?? [n('cloud_cpu_pct')]));
  if (busiest >= 85) return `a cloud instance's event loop (${busiest} % of one core)`;
  if (n('pg_cpu_pct') >= 85) return `PostgreSQL (${n('pg_cpu_pct')} % of a core)`;
  if (n('machine_cpu_pct') >= 90) return `the machine's ${cpus().length} cores (${n('machine_cpu_pct')} % busy)`;
  return 'nothing at 85 % CPU: latency or errors missed the targets first';
}

async function main(): Promise<void> {
  const options = readOptions();
  const url = await resolveDatabaseUrl();
  const schema = `bench_fleet_${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-bench-fleet-'));
  const simulator = await startMtnMomoSimulator({ host: '127.0.0.1', port: 0, targetEnvironment: 'mtnuganda' });
  // Several instances start together, as replicas do: their migrations must run once (advisory lock).
  const lb: RunningLoadBalancer | undefined = options.instances > 1 ? await loadBalancer() : undefined;
  // Each instance logs as in production (JSON at info on stdout), here into a file: its cost is in
  // the cloud's CPU, and its volume in `cloud_log_kb_per_s`.
  const cloudLogs = Array.from({ length: options.instances }, (_, i) => join(dir, `cloud-${i + 1}.log`));
  const clouds = cloudLogs.map((logFile) =>
    fork(SELF, ['--role', 'cloud'], {
      stdio: ['ignore', openSync(logFile, 'a'), 'inherit', 'ipc'],
      execArgv: childExecArgv(options),
      env: {
        ...process.env,
        BENCH_CLOUD_DATABASE_URL: tagged(url),
        BENCH_SCHEMA: schema,
        BENCH_MTN_URL: simulator.url,
        // Payment callbacks come back through the balancer, so often to the other instance.
        ...(lb ? { BENCH_PUBLIC_URL: lb.url } : {}),
      },
    }),
  );
  const db = new BenchDatabase(url, schema);
  let gateways: RealGateways | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      await gateways?.close().catch((error: unknown) => log(`gateways: ${(error as Error).message}`));
      await Promise.all(clouds.map(stopChild));
      await lb?.close();
      await simulator.close();
      await db.dropSchema().catch((error: unknown) => log(`schema ${schema} not dropped: ${(error as Error).message}`));
      await db.close();
      await rm(dir, { recursive: true, force: true });
    })());
  // Bounded: a run that overstays is stopped, cleaned up, and fails.
  const watchdog = setTimeout(
    () => {
      log('over the time budget: stopping');
      void cleanup().finally(() => process.exit(2));
    },
    options.sizes.length * (options.seconds + 900) * 1000,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  process.once('uncaughtException', (error) => {
    log(`failed: ${error.stack ?? error.message}`);
    void cleanup().finally(() => process.exit(1));
  });
  try {
    const instanceUrls = await Promise.all(
      clouds.map((cloud) =>
        nextMessage(cloud, (m) => ((m as CloudReady).cloudUrl ? (m as CloudReady).cloudUrl : undefined), 120_000),
      ),
    );
    await lb?.start(instanceUrls.map((instance) => new URL(instance).host));
    const cloudUrl = lb?.url ?? instanceUrls[0]!;
    const topUpAccounts = Math.min(100_000, Math.floor(options.customers / 10));
    const dispensing = options.customers - topUpAccounts;
    log(
      `cloud at ${cloudUrl} (${options.instances} instance${options.instances > 1 ? 's behind HAProxy' : ''}); schema ${schema}; seeding ${options.customers.toLocaleString('en')} customers`,
    );
    await db.seedCustomers(dispensing, topUpAccounts, log);
    const gatewayKiosks = await Promise.all(
      Array.from({ length: options.gateways }, (_, i) => createKiosk(db, { kioskId: `GW${i + 1}` })),
    );
    gateways = new RealGateways({
      dir,
      cloudUrl,
      kiosks: gatewayKiosks.map((kiosk) => ({ id: kiosk.kioskId, secret: kiosk.secret })),
      customers: options.customers,
      lastVersion: await db.lastVersion(),
      followBalances: options.follow,
      progress: log,
    });
    log(`${options.gateways} gateway processes pulling the replica`);
    await gateways.start();
    log(`gateways hold the replica after ${gateways.replicaS.toFixed(1)} s`);
    const fixture: Fixture = {
      db,
      cloudUrl,
      cloudPids: clouds.map((cloud) => cloud.pid!),
      instanceUrls,
      cloudLogs,
      simulator,
      gateways,
      dispensing,
      topUpNext: dispensing + 1,
      customers: options.customers,
    };
    let largest: number | null = null;
    let verdict = 'every size met the targets';
    for (const kiosks of options.sizes) {
      const line = await runSize(fixture, kiosks, options);
      console.log(JSON.stringify(line));
      const met = meetsTargets(line);
      if (met && verdict === 'every size met the targets') largest = kiosks;
      if (!met && verdict === 'every size met the targets')
        verdict = `${kiosks} kiosks missed the targets; saturated first: ${saturated(line)}`;
      // A size that lost requests or deliveries is broken: a larger one would only break harder.
      if (Number(line['errors']) > 0) {
        verdict += `; stopped at ${kiosks} kiosks (${line['errors']} errors)`;
        break;
      }
    }
    if (options.sizes.length > 1)
      console.log(
        JSON.stringify({
          largest_kiosks_meeting_targets: largest,
          verdict,
          targets: TARGETS,
          gateway_replica_s: round(gateways.replicaS),
          machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
        }),
      );
    else log(verdict);
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

const role = process.argv[process.argv.indexOf('--role') + 1];
if (process.argv.includes('--role') && role === 'cloud') await runCloudProcess();
else if (process.argv.includes('--role') && role === 'kiosks') runKioskWorker();
else {
  await main();
  // Everything is closed; a stray handle must not keep a finished bench alive.
  process.exit(0);
}
