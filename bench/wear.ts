/**
 * SD-card wear benchmark (issue 14): one gateway process serving a busy day compressed in time —
 * 2,000 dispenses by six dispensers over MQTT, the simulated sensors and modem polled at their
 * configured periods divided by the compression, readings downsampled at the configured bucket
 * (compressed alike), sync online with a real cloud (customers' top-ups arriving), logs at info.
 * A quarter of the day is quiet (sensors and sync only), the rest busy.
 *
 * Measures what the gateway process wrote: `write_bytes` of /proc/<pid>/io (what reached the
 * storage layer), and — when strace is installed — every write syscall by file: the WAL, the
 * database file (WAL checkpoints) and stdout (logs, which balenaOS keeps in RAM unless persistent
 * logging is on). Then a fleet phase: customer changes made elsewhere in the fleet (other kiosks'
 * dispenses and top-ups), which every gateway replicates, at the rate a fleet of `--fleet-kiosks`
 * as busy as this one makes them — in real time, not compressed: how many changes one pull carries
 * (and so how many pages a change costs) depends on it. Each change is a different customer, spread
 * over the replica as the fleet's customers are, none of them one the kiosk served in its day: with
 * the gateway's default FOLLOW_BALANCES=own it does not write their balances (ARCHITECTURE §7,
 * _A kiosk's SD card_); with `all` it does. Then, traced, a profile phase: `--profile-changes` new
 * customers and PIN changes, which every kiosk writes, scaled to `--profiles-per-day`.
 *
 *   npm run bench:wear                          # 100,000 customers, the day in 8 minutes
 *   npm run bench:wear -- --minutes 2 --customers 10000 --fleet-seconds 20   # a quick look
 *   npm run bench:wear -- --follow-balances all     # every change of the fleet written, as before
 *
 * The cloud runs in this process on PGlite (in memory): what is measured is the gateway.
 */
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCustomer, createKiosk, recordAdjustment, startCloud } from '@tusafishe/cloud';
import { DATABASE_FILE, DemoCredentials, type SyncStatus } from '@tusafishe/gateway';
import { backupGateway } from '@tusafishe/gateway/backup';
import { TestDispenser } from '@tusafishe/gateway/testing';
import type { AuthApproved } from '@tusafishe/protocol';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { GatewayProcess } from '@tusafishe/fleet/gateway-process';
import { accountId, BENCH_PIN, phoneOf, seedCustomers } from './fleet/database.js';
import { bytesByTable, cardBytesOf, pageSizeOf } from './wear/page-owners.js';
import { sumWrites, type TracedWrites } from './wear/syscall-writes.js';

const DAY_MS = 86_400_000;
const MB = 2 ** 20;
/** The gateway's configured periods (hardware README defaults) and the readings bucket. */
const SENSOR_POLL_MS = 5000;
const MODEM_POLL_MS = 30_000;
const SIM_TICK_MS = 1000;
const READINGS_BUCKET_MS = 60_000;
const READINGS_FLUSH_MS = 15 * 60_000;
const STATUS_INTERVAL_MS = 60_000;
const TARGET_MB_PER_DAY = 50;
/** GATEWAY_BACKUP_INTERVAL_HOURS while the kiosk syncs (its default), in days. */
const DAYS_BETWEEN_BACKUPS = 7;

interface Options {
  minutes: number;
  customers: number;
  dispenses: number;
  topUps: number;
  fleetKiosks: number;
  fleetSeconds: number;
  followBalances: 'own' | 'all';
  profileChanges: number;
  profilesPerDay: number;
  strace: boolean;
}

function followBalances(raw: string): 'own' | 'all' {
  if (raw !== 'own' && raw !== 'all') throw new Error(`--follow-balances must be own or all, not "${raw}"`);
  return raw;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '8' },
      customers: { type: 'string', default: '100000' },
      dispenses: { type: 'string', default: '2000' },
      topups: { type: 'string', default: '200' },
      'fleet-kiosks': { type: 'string', default: '600' },
      'fleet-seconds': { type: 'string', default: '60' },
      'no-strace': { type: 'boolean', default: false },
      /** The gateway's FOLLOW_BALANCES: `own` (its default) or `all` (every change of the fleet written). */
      'follow-balances': { type: 'string', default: 'own' },
      /** New customers and PIN changes made in the profile phase (two new customers to a PIN change). */
      'profile-changes': { type: 'string', default: '60' },
      /** The fleet's new customers and PIN or status changes a day, which every kiosk writes. */
      'profiles-per-day': { type: 'string', default: '1500' },
    },
  });
  const number = (name: string, raw: string, min: number): number => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}, not "${raw}"`);
    return value;
  };
  let strace = !values['no-strace'];
  try {
    if (strace) execFileSync('strace', ['-V'], { stdio: 'ignore' });
  } catch {
    strace = false;
  }
  return {
    minutes: number('minutes', values.minutes, 0.5),
    customers: Math.floor(number('customers', values.customers, 1000)),
    dispenses: Math.floor(number('dispenses', values.dispenses, 0)),
    topUps: Math.floor(number('topups', values.topups, 0)),
    fleetKiosks: Math.floor(number('fleet-kiosks', values['fleet-kiosks'], 1)),
    fleetSeconds: number('fleet-seconds', values['fleet-seconds'], 0),
    followBalances: followBalances(values['follow-balances']),
    profileChanges: Math.floor(number('profile-changes', values['profile-changes'], 0)),
    profilesPerDay: number('profiles-per-day', values['profiles-per-day'], 0),
    strace,
  };
}

/** What a replicated change can write: the customer's row, its phone's, and the sync cursor. */
const REPLICA_TABLES = ['customers', 'customer_phones', 'sync_state'] as const;

const log = (line: string): void => void process.stderr.write(`[wear] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number): number => Math.round((bytes / MB) * 100) / 100;

/** The Node process itself: under strace, the tracer's child. */
function nodePid(pid: number, traced: boolean): number {
  if (!traced) return pid;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  if (children.length === 0) throw new Error(`no child of strace ${pid}`);
  return Number(children[0]);
}

function writeBytes(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return (
    Number(/^write_bytes: (\d+)$/m.exec(io)?.[1] ?? 0) - Number(/^cancelled_write_bytes: (\d+)$/m.exec(io)?.[1] ?? 0)
  );
}

async function fileSize(path: string): Promise<number> {
  return (await stat(path).catch(() => ({ size: 0 }))).size;
}

/** Runs `count` actions spread evenly over `ms`, `lanes` at a time at most (the six dispensers). */
async function spread(count: number, ms: number, action: (i: number) => Promise<void>): Promise<void> {
  const started = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * ms) / count;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    running.push(action(i));
  }
  await Promise.all(running);
}

/**
 * Resolves once the gateway has cleared what building its first replica left behind (staged rows,
 * set aside or not, and the tables it swapped out), which it does in slices after the replica is held.
 */
async function replicaSettled(db: Database.Database): Promise<void> {
  const leftovers = db
    .prepare<[], number>(
      `SELECT (SELECT count(*) FROM sqlite_schema WHERE name IN
          ('customers_next', 'customer_phones_next', 'customers_old', 'customer_phones_old')
          OR name GLOB 'sync_incoming_spent_*')
        + (SELECT count(*) FROM (SELECT 1 FROM sync_incoming LIMIT 1))
        + (SELECT count(*) FROM (SELECT 1 FROM sync_runs LIMIT 1))`,
    )
    .pluck();
  while (leftovers.get() !== 0) await sleep(500);
}

async function main(): Promise<void> {
  const options = readOptions();
  const compression = DAY_MS / (options.minutes * 60_000);
  const dayMs = DAY_MS / compression;
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-bench-wear-'));
  const cloud = await startCloud({
    port: 0,
    logger: false,
    providers: { statusPollIntervalMs: 0 },
    rateLimits: { requestsPerKioskPerMinute: 1e6 },
  });
  const traceFile = join(dir, 'writes.strace');
  let gateway: GatewayProcess | undefined;
  let checkpointer: Database.Database | undefined;
  const dispensers: TestDispenser[] = [];
  try {
    log(`cloud on ${cloud.db.kind}; seeding ${options.customers.toLocaleString('en')} customers`);
    const topUpAccounts = options.topUps;
    const dispensing = options.customers - topUpAccounts;
    await seedCustomers(cloud.db, dispensing, topUpAccounts, log);
    const { secret } = await createKiosk(cloud.db, { kioskId: 'WEAR' });
    const every = (ms: number, min: number): string => String(Math.max(min, Math.round(ms / compression)));
    gateway = new GatewayProcess({
      kioskId: 'WEAR',
      dataDir: join(dir, 'gateway'),
      env: {
        CLOUD_URL: cloud.url,
        KIOSK_SECRET: secret,
        SEED_DEMO: 'true',
        LOG_LEVEL: 'info',
        FOLLOW_BALANCES: options.followBalances,
        HW_MODE: 'simulated',
        HW_MODBUS_POLL_MS: every(SENSOR_POLL_MS, 20),
        HW_MODEM_POLL_MS: every(MODEM_POLL_MS, 20),
        HW_SIM_TICK_MS: every(SIM_TICK_MS, 10),
        HW_SIM_SPEED: String(compression),
        HW_READINGS_BUCKET_MS: every(READINGS_BUCKET_MS, 1),
        HW_READINGS_FLUSH_MS: every(READINGS_FLUSH_MS, 1),
        // The kiosk status (and the authorisation counts it writes) every minute, compressed alike (1 s at least).
        SYNC_STATUS_INTERVAL_S: String(Math.max(1, Math.round(STATUS_INTERVAL_MS / compression / 1000))),
        // The backup is counted from one taken after the day, as the gateway takes them (no replica).
        GATEWAY_BACKUP_INTERVAL_HOURS: '0',
      },
      ...(options.strace
        ? {
            wrapper: [
              'strace',
              '-f',
              '-qq',
              '-x',
              '-ttt',
              '-y',
              '-e',
              'trace=write,pwrite64,writev,pwritev,pwritev2',
              '-o',
              traceFile,
            ],
          }
        : {}),
      readyTimeoutMs: 180_000,
    });
    await gateway.start();
    const pid = nodePid(gateway.pid!, options.strace);
    const [{ version }] = (await cloud.db.query<{ version: number }>(
      'SELECT max(version)::float8 AS version FROM customers',
    )) as [{ version: number }];
    for (;;) {
      // A gateway busy with its first replica may answer late: ask again.
      const status = await gateway.json<SyncStatus>('/api/sync').catch(() => undefined);
      if (status && status.replica_size >= options.customers && Number(status.cursor) >= version) break;
      await sleep(500);
    }
    const demo = DemoCredentials.parse(
      JSON.parse(await readFile(join(gateway.dataDir, 'demo-credentials.json'), 'utf8')),
    );
    dispensers.push(
      ...(await Promise.all(
        ['D1', 'D2', 'D3', 'D4', 'D5', 'D6'].map((id) =>
          TestDispenser.connect({ mqttPort: gateway!.mqttPort, demo }, id),
        ),
      )),
    );
    const dbFile = join(gateway.dataDir, DATABASE_FILE);
    const logFile = join(gateway.dataDir, 'gateway.log');
    // A second connection: waits for the first replica's leftovers to be cleared, and checkpoints.
    checkpointer = new Database(dbFile, { fileMustExist: true });
    const checkpoint = (): number => {
      const before = writeBytes(process.pid);
      checkpointer!.pragma('wal_checkpoint(PASSIVE)');
      return writeBytes(process.pid) - before;
    };
    await replicaSettled(checkpointer);
    log(
      `replica of ${options.customers.toLocaleString('en')} held; a day in ${options.minutes} min (×${Math.round(compression)})`,
    );
    await sleep(Math.min(10_000, dayMs / 20)); // sensors polling, buckets flowing
    // The day starts with the first replica's pages in the file, not in the WAL (its checkpoint
    // would otherwise fall in the quiet quarter, whose rate stands for the whole day's idle part).
    checkpoint();

    const mark = async () => ({
      at: Date.now(),
      written: writeBytes(pid),
      db: await fileSize(dbFile),
      wal: await fileSize(`${dbFile}-wal`),
      log: await fileSize(logFile),
    });
    // Quiet quarter: sensors, modem, sync.
    const start = await mark();
    await sleep(dayMs / 4);
    const busyStart = await mark();
    // Busy three quarters: the day's dispenses, six dispensers, and the day's top-ups from the cloud.
    const denied = new Map<string, number>();
    let failed = 0;
    let approved = 0;
    const lanes = dispensers.map(() => Promise.resolve());
    await Promise.all([
      spread(options.dispenses, (dayMs * 3) / 4, async (i) => {
        const lane = i % dispensers.length;
        const dispenser = dispensers[lane]!;
        const serve = async (): Promise<void> => {
          const ml = 1000 * (1 + (i % 20));
          try {
            const answer = await dispenser.authorise(
              dispenser.request(phoneOf(1 + ((i * 7919) % dispensing), false), ml, BENCH_PIN),
            );
            if (!answer.approved) denied.set(answer.reason, (denied.get(answer.reason) ?? 0) + 1);
            else {
              // A dispenser repeats its completion until acknowledged (an answer lost on a loaded
              // machine would otherwise keep the dispenser busy until the hold expires).
              const report = dispenser.completion(answer as AuthApproved, ml);
              for (let attempt = 1; ; attempt++) {
                try {
                  await dispenser.complete(report);
                  break;
                } catch (error) {
                  if (attempt === 3) throw error;
                }
              }
              approved += 1;
            }
          } catch {
            failed += 1;
          }
        };
        lanes[lane] = lanes[lane]!.then(serve);
        await lanes[lane];
      }),
      spread(options.topUps, (dayMs * 3) / 4, async (i) => {
        await recordAdjustment(cloud.db, {
          accountId: accountId(dispensing + 1 + i),
          amountMl: 400_000,
          reason: 'top-up',
          operator: 'bench',
        });
      }),
    ]);
    const end = await mark();

    /** Until the gateway has pulled every change the cloud has. */
    const running = gateway;
    const caughtUp = async (): Promise<void> => {
      const [{ version: last }] = (await cloud.db.query<{ version: number }>(
        'SELECT max(version)::float8 AS version FROM customers',
      )) as [{ version: number }];
      while (Number((await running.json<SyncStatus>('/api/sync').catch(() => undefined))?.cursor ?? 0) < last)
        await sleep(200);
    };

    // Fleet phase: customer changes made elsewhere, replicated here, at the fleet's daily mean rate.
    const fleetPerS = (options.fleetKiosks * (options.dispenses + options.topUps)) / (DAY_MS / 1000);
    const fleetChanges = Math.round(fleetPerS * options.fleetSeconds);
    let fleet: { bytes: number; seconds: number; walByTable?: Record<string, number>; traced?: number } | undefined;
    if (fleetChanges > 0) {
      log(`fleet: ${fleetChanges} changes in ${options.fleetSeconds} s (${fleetPerS.toFixed(1)}/s)`);
      // The phase ends before SQLite's own checkpoint would copy its pages into the file: the bench
      // checkpoints at both ends (counted from this process's write_bytes).
      checkpoint();
      const before = await mark();
      // Other kiosks' customers: the changes of the customers this kiosk served (their top-ups,
      // its dispenses) were its own day's. With FOLLOW_BALANCES=all it writes every one of these.
      const servedToday = new Set(Array.from({ length: options.dispenses }, (_, j) => 1 + ((j * 7919) % dispensing)));
      const elsewhere = (i: number): number => {
        let n = 1 + ((i * 104_729) % dispensing);
        while (servedToday.has(n)) n = (n % dispensing) + 1;
        return n;
      };
      await spread(fleetChanges, options.fleetSeconds * 1000, async (i) => {
        await recordAdjustment(cloud.db, {
          accountId: accountId(elsewhere(i)),
          amountMl: 20_000,
          reason: 'fleet',
          operator: 'bench',
        });
      });
      await caughtUp();
      const after = await mark();
      const checkpointed = checkpoint();
      const seconds = (after.at - before.at) / 1000;
      const quietPerS = (busyStart.written - start.written) / ((busyStart.at - start.at) / 1000);
      fleet = { bytes: after.written - before.written - quietPerS * seconds + checkpointed, seconds };
      if (options.strace) {
        // The phase's own WAL frames by table, the sensors' apart: the subtraction above carries
        // the noise of their rate, larger than what the changes cost once most are not written.
        const phase = await sumWrites(traceFile, DATABASE_FILE, before.at, after.at, pageSizeOf(dbFile));
        const walByTable = Object.fromEntries(
          Object.entries(bytesByTable(dbFile, phase.pages).wal).filter(
            ([name]) => !name.startsWith('hardware_readings'),
          ),
        );
        fleet.walByTable = walByTable;
        // The replica's own pages (and the cursor): the sensors' commits write the header and free
        // pages meanwhile, and the bench's checkpoint copies their pages too.
        fleet.traced = cardBytesOf(dbFile, phase.pages, REPLICA_TABLES);
      }
    }

    // Profile phase: new customers and PIN changes, which every kiosk writes whoever serves them
    // (it must know them to serve them offline). New customers get random account ids, as real
    // ones; their phone numbers sort after the bench's contiguous ones, so the phone index's leaf
    // they write is a shared one here: a real new number's is a random leaf, ~5 KB more.
    let profiles: { bytes: number } | undefined;
    if (options.strace && options.profileChanges > 0) {
      log(`profiles: ${options.profileChanges} new customers and PIN changes in 30 s`);
      checkpoint();
      const before = await mark();
      const newPinHash = await hashSecret('2580');
      await spread(options.profileChanges, 30_000, async (i) => {
        if (i % 3 === 2) {
          await cloud.db.query('UPDATE customers SET pin_hash = $2 WHERE account_id = $1', [
            accountId(1 + ((i * 15_485_863) % dispensing)),
            newPinHash,
          ]);
          return;
        }
        await createCustomer(cloud.db, {
          phone: `+2547${String(50_000_000 + i * 7919).padStart(8, '0')}`,
          name: `New customer ${i}`,
          pin: '2580',
        });
      });
      await caughtUp();
      const after = await mark();
      checkpoint();
      const phase = await sumWrites(traceFile, DATABASE_FILE, before.at, after.at, pageSizeOf(dbFile));
      profiles = { bytes: cardBytesOf(dbFile, phase.pages, [...REPLICA_TABLES, 'replica_size']) };
    }

    const quietS = (busyStart.at - start.at) / 1000;
    const dayS = (end.at - start.at) / 1000;
    const quietPerS = (busyStart.written - start.written) / quietS;
    const dayWritten = end.written - start.written;
    const busyExcess = end.written - busyStart.written - quietPerS * ((end.at - busyStart.at) / 1000);
    const scale = dayMs / 1000 / dayS; // the day ran a little long: scale to exactly one day
    // A scheduled backup: everything but the replica, weekly while the kiosk syncs (gateway README § Backups).
    const taken = await backupGateway(gateway.dataDir, join(dir, 'backup.db'), { replica: false });
    const backup = taken.bytes / DAYS_BETWEEN_BACKUPS;
    const traced: TracedWrites | undefined = options.strace
      ? await sumWrites(traceFile, DATABASE_FILE, start.at, end.at, pageSizeOf(dbFile))
      : undefined;
    const perFile = traced?.bytes;
    const byTable = traced && bytesByTable(dbFile, traced.pages);
    const perDay = (bytes: Record<string, number>): Record<string, number> =>
      Object.fromEntries(
        Object.entries(bytes)
          .map(([name, b]) => [name, mb(b * scale)])
          .filter(([, m]) => m !== 0),
      );
    const logs = end.log - start.log;
    const perChange = (bytes: number): number => (bytes / fleetChanges) * fleetPerS * (DAY_MS / 1000);
    // Read from the trace when there is one: by write_bytes, what the sensors write meanwhile (their
    // pruning starts after the day) is subtracted at the quiet quarter's rate, as noise.
    const fleetBytes = fleet && (fleet.traced ?? fleet.bytes);
    const fleetPerDay = fleetBytes !== undefined ? perChange(fleetBytes) : 0;
    const mbPerDay = mb(dayWritten * scale + backup);
    const load = loadavg();
    log(
      `dispenses denied ${JSON.stringify(Object.fromEntries(denied))}, failed ${failed}; machine ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${load.map((l) => l.toFixed(2)).join(' ')}`,
    );
    console.log(
      JSON.stringify({
        mb_per_day: mbPerDay,
        target_mb_per_day: TARGET_MB_PER_DAY,
        within_target: mbPerDay <= TARGET_MB_PER_DAY,
        parts_mb_per_day: {
          readings_and_idle: mb(quietPerS * dayS * scale),
          ledger_and_sync: mb(busyExcess * scale),
          backup: mb(backup),
          logs_if_persisted: mb(logs * scale),
        },
        files_mb_per_day: perFile && {
          wal: mb(perFile.wal * scale),
          checkpoints: mb(perFile.database * scale),
          logs: mb(perFile.logs * scale),
          other: mb(perFile.other * scale),
        },
        wal_mb_per_day_by_table: byTable && perDay(byTable.wal),
        checkpoint_mb_per_day_by_table: byTable && perDay(byTable.checkpoint),
        commits_per_day: traced && Math.round(traced.pages.commits * scale),
        db_growth_mb: mb(end.db - start.db),
        wal_mb: mb(end.wal),
        db_mb: mb(end.db),
        follow_balances: options.followBalances,
        fleet_kiosks: options.fleetKiosks,
        fleet_changes_per_s: Math.round(fleetPerS * 10) / 10,
        fleet_bytes_per_change: fleetBytes !== undefined ? Math.round(fleetBytes / fleetChanges) : null,
        fleet_mb_per_day: fleet && mb(fleetPerDay),
        fleet_mb_per_day_by_write_bytes: fleet && mb(perChange(fleet.bytes)),
        profile_changes: profiles ? options.profileChanges : null,
        profile_bytes_per_change: profiles ? Math.round(profiles.bytes / options.profileChanges) : null,
        profiles_per_day: options.profilesPerDay,
        profiles_mb_per_day: profiles ? mb((profiles.bytes / options.profileChanges) * options.profilesPerDay) : null,
        fleet_wal_mb_per_day_by_table:
          fleet?.walByTable &&
          Object.fromEntries(Object.entries(fleet.walByTable).map(([name, b]) => [name, mb(perChange(b))])),
        // The kiosk's own day and the fleet's changes it replicates, together.
        with_fleet_mb_per_day:
          fleet &&
          mb(
            dayWritten * scale +
              backup +
              fleetPerDay +
              (profiles ? (profiles.bytes / options.profileChanges) * options.profilesPerDay : 0),
          ),
        dispenses: options.dispenses,
        recorded: approved,
        kb_per_recorded_dispense: approved > 0 ? Math.round(busyExcess / approved / 1024) : null,
        denied: [...denied.values()].reduce((a, b) => a + b, 0),
        failed,
        topups: options.topUps,
        customers: options.customers,
        compression: Math.round(compression),
        minutes: options.minutes,
        strace: options.strace,
        loadavg_1m: Math.round(load[0]! * 100) / 100,
      }),
    );
  } finally {
    checkpointer?.close();
    await Promise.all(dispensers.map((d) => d.close().catch(() => undefined)));
    await gateway?.close();
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
