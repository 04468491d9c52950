/**
 * Sync benchmark (issue 5):
 *  1. replica_100k_s — a fresh gateway process (empty DATA_DIR, sync enabled) until its replica holds
 *     all 100,000 customers and its cursor has reached the cloud's last version.
 *  2. topup_to_kiosk_ms — median time from the customer approving a payment in the MTN simulator
 *     (callback → status query → credit → NOTIFY → long-poll) until the gateway's own SQLite shows
 *     the new balance (also p100 over the runs).
 * The cloud runs in this process (PGlite, or the PostgreSQL server in DATABASE_URL); the gateway is a
 * real process, bundled and started as deployed (`gateway/dist/main.js`, with the Node flags and
 * allocator environment of the image: `@tusafishe/gateway/runtime`). Setup inserts customers in bulk with SQL, reusing 4 pre-made PIN hashes (one scrypt hash
 * per customer would take minutes and is not what is measured). `gateway_rss_mb`: the gateway's RSS
 * with the replica loaded (after the top-ups); `gateway_peak_rss_mb`: the most seen while it pulled.
 * `gateway_cpu_s` / `cloud_cpu_s`: CPU seconds each spent on the first replica (the bench process's
 * for the cloud, seeding excluded) — what the replica costs on a quiet machine, however loaded this one was.
 * `max_event_loop_delay_ms` (first replica) and `refetch_max_event_loop_delay_ms`: the longest the
 * gateway's event loop was held (its `tusafishe_event_loop_delay_max_seconds`, scraped every second) —
 * while held, no dispenser is answered. 3. Refetch: the gateway stopped, its cursor set beyond the cloud's
 * (the cloud answers `must_refetch`, as for a database from elsewhere) and started again: it pulls every
 * customer again while serving the replica it has, then swaps the new one in (`refetch_s`,
 * `refetch_peak_rss_mb`).
 *
 *   npm run bench:sync                    # 100,000 customers (targets: replica ≤ 15 s, top-up ≤ 2 s)
 *   npm run bench:sync -- --million       # 1,000,000 (targets: replica ≤ 60 s, gateway RSS ≤ 200 MB)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { startCloud, findCustomer, createKiosk } from '@tusafishe/cloud';
import { GatewayProcess } from '@tusafishe/fleet/gateway-process';
import { readGatewayBalances } from '@tusafishe/fleet/gateway-replica';
import { DATABASE_FILE, type SyncStatus } from '@tusafishe/gateway';
import { GATEWAY_MALLOC_ENV, GATEWAY_NODE_FLAGS } from '@tusafishe/gateway/runtime';
import { buildGateway } from '../scripts/gateway-bundle.js';
import { cpuSeconds, rssMb } from './fleet/proc.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MILLION = process.argv.includes('--million');
const CUSTOMERS = MILLION ? 1_000_000 : Number(process.env['BENCH_CUSTOMERS'] ?? 100_000);
const TARGETS: Record<string, number> = MILLION
  ? { replica_s: 60, gateway_rss_mb: 200, max_event_loop_delay_ms: 100 }
  : { replica_s: 15, topup_to_kiosk_ms: 2000, max_event_loop_delay_ms: 100 };
const TOPUPS = Number(process.env['BENCH_TOPUPS'] ?? 7);
const INSERT_CHUNK = 10_000;
/** Customer g gets account BN + (g × SCRAMBLE mod 10⁸) and phone +25472 + (g × SCRAMBLE mod 10⁷). */
const SCRAMBLE = 7919;
const accountOf = (g: number): string => `BN${String((g * SCRAMBLE) % 100_000_000).padStart(8, '0')}`;
const topUpAccount = (run: number): string => accountOf(1 + run * 997);
/** Node flags of the gateway process, as in the image (`runtime.ts`); e.g. add --cpu-prof to profile. */
const GATEWAY_NODE_ARGS = (process.env['BENCH_GATEWAY_NODE_ARGS'] ?? GATEWAY_NODE_FLAGS.join(' '))
  .split(' ')
  .filter(Boolean);

async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs: number,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The gateway's longest event-loop delay since the previous scrape (ms); it resets at each scrape. */
async function eventLoopDelayMs(gateway: GatewayProcess): Promise<number> {
  const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
  const seconds = /^tusafishe_event_loop_delay_max_seconds (\S+)$/m.exec(metrics)?.[1];
  return seconds === undefined ? 0 : Math.round(Number(seconds) * 1000);
}

/**
 * Polls the gateway's sync status about every second until `done` says so, following its peak RSS
 * and longest event-loop delay meanwhile.
 */
async function watchSync(
  gateway: GatewayProcess,
  what: string,
  done: (status: SyncStatus) => boolean,
): Promise<{ seconds: number; peakRssMb: number; maxDelayMs: number }> {
  const started = Date.now();
  let peakRssMb = 0;
  let maxDelayMs = 0;
  let reported = started;
  await eventLoopDelayMs(gateway); // from now on
  await waitFor(
    async () => {
      peakRssMb = Math.max(peakRssMb, rssMb(gateway.pid!));
      maxDelayMs = Math.max(maxDelayMs, await eventLoopDelayMs(gateway));
      const status = await gateway.json<SyncStatus>('/api/sync');
      if (Date.now() - reported >= 30_000) {
        reported = Date.now();
        process.stderr.write(
          `${what}: ${((reported - started) / 1000).toFixed(0)} s, ${status.refetch_pulled || status.replica_size} customers, ` +
            `event loop held ${maxDelayMs} ms at most\n`,
        );
      }
      return done(status) ? status : undefined;
    },
    what,
    600_000,
    // /api/sync counts the replica's rows (tens of ms at a million): polled gently so the bench
    // does not slow down what it measures.
    1000,
  );
  maxDelayMs = Math.max(maxDelayMs, await eventLoopDelayMs(gateway));
  return { seconds: (Date.now() - started) / 1000, peakRssMb, maxDelayMs };
}

/** The bench's schema on a PostgreSQL server goes with it (a million customers are half a gigabyte). */
async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-bench-sync-'));
  const databaseUrl = process.env['DATABASE_URL'];
  const schema = `bench_sync_${process.pid}`;
  const cloud = await startCloud({
    port: 0,
    logger: false,
    ...(databaseUrl ? { databaseUrl, databaseSchema: schema } : {}),
    simulators: {},
    providers: { fallback: 'mtn', statusPollIntervalMs: 0 },
    rateLimits: { requestsPerKioskPerMinute: 100_000 },
  });
  const { secret } = await createKiosk(cloud.db, { kioskId: 'BENCH' });
  const bundle = await buildGateway(join(ROOT, 'node_modules/.cache/tusafishe-bench/gateway'));
  const gateway = new GatewayProcess({
    kioskId: 'BENCH',
    dataDir: join(dir, 'gateway'),
    env: {
      ...GATEWAY_MALLOC_ENV,
      CLOUD_URL: cloud.url,
      KIOSK_SECRET: secret,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      HW_MODE: 'off',
    },
    entry: relative(ROOT, bundle),
    nodeArgs: GATEWAY_NODE_ARGS,
    readyTimeoutMs: 60_000,
  });
  try {
    const hashes = await Promise.all(['1234', '2345', '3456', '4567'].map((pin) => hashSecret(pin)));
    const seeding = Date.now();
    for (let from = 1; from <= CUSTOMERS; from += INSERT_CHUNK) {
      const to = Math.min(CUSTOMERS, from + INSERT_CHUNK - 1);
      // Account ids and phones scrambled (a permutation, so still unique) as real ones are: the
      // version order the replica arrives in is not the order of the gateway's indexes.
      await cloud.db.query(
        `INSERT INTO customers (account_id, phone, name, pin_hash, status, balance_ml, token_key)
         SELECT 'BN' || lpad(((g::bigint * ${SCRAMBLE}) % 100000000)::text, 8, '0'),
                '+25472' || lpad(((g::bigint * ${SCRAMBLE}) % 10000000)::text, 7, '0'),
                'Bench customer ' || g, ($3::text[])[1 + g % 4], 'active', 0,
                translate(rtrim(encode(sha256(g::text::bytea), 'base64'), '='), '+/', '-_')
         FROM generate_series($1::int, $2::int) AS g`,
        [from, to, hashes],
      );
    }
    // The customers topped up below are this kiosk's own (allowed at it by name): a kiosk writes
    // only its own customers' balances as they change (ARCHITECTURE §7, _A kiosk's SD card_).
    await cloud.db.query(`UPDATE customers SET allowed_kiosks = ARRAY['BENCH'] WHERE account_id = ANY($1::text[])`, [
      Array.from({ length: TOPUPS }, (_, run) => topUpAccount(run)),
    ]);
    const [{ version }] = (await cloud.db.query<{ version: number }>(
      'SELECT max(version)::bigint AS version FROM customers',
    )) as [{ version: number }];
    process.stderr.write(`seeded ${CUSTOMERS} customers in ${Date.now() - seeding} ms (cloud: ${cloud.db.kind})\n`);

    // 1. First full replica to a fresh gateway.
    const spawned = Date.now();
    await gateway.start();
    const started = Date.now();
    const cpuBefore = { gateway: cpuSeconds(gateway.pid!), cloud: process.cpuUsage() };
    const first = await watchSync(
      gateway,
      'first replica',
      (status) => status.replica_size >= CUSTOMERS && Number(status.cursor) >= Number(version),
    );
    const peakRss = first.peakRssMb;
    const replicaS = (Date.now() - started) / 1000;
    // CPU seconds the replica took: what a quiet machine needs whatever the load was during the run.
    const cloudCpu = process.cpuUsage(cpuBefore.cloud);
    const replicaCpu = {
      gateway_cpu_s: Number((cpuSeconds(gateway.pid!) - cpuBefore.gateway).toFixed(1)),
      cloud_cpu_s: Number(((cloudCpu.user + cloudCpu.system) / 1e6).toFixed(1)),
    };
    process.stderr.write(
      `gateway process ready in ${started - spawned} ms; replica of ${CUSTOMERS} in ${replicaS.toFixed(2)} s\n`,
    );

    // 2. Top-up: approval on the phone → balance at the kiosk.
    const timings: number[] = [];
    for (let run = 0; run < TOPUPS; run += 1) {
      const accountId = topUpAccount(run);
      const customer = (await findCustomer(cloud.db, accountId))!;
      const before = readGatewayBalances(gateway.dataDir, [accountId]).get(accountId);
      // KES 10 by M-Pesa: the bench customers have Safaricom numbers.
      const { provider } = await cloud.payments.start(customer, 1_000);
      const wallet = cloud.simulators![provider.name];
      const pending = [...wallet.payments.values()].find(
        (p) => p.status === 'PENDING' && p.msisdn === customer.phone.slice(1),
      )!;
      await sleep(300); // the gateway is back in its long-poll
      const confirmed = performance.now();
      await wallet.decide(pending.reference, true);
      await waitFor(
        async () => (readGatewayBalances(gateway.dataDir, [accountId]).get(accountId) !== before ? true : undefined),
        'top-up at the kiosk',
        30_000,
        5,
      );
      timings.push(performance.now() - confirmed);
    }
    const rss = rssMb(gateway.pid!);
    timings.sort((a, b) => a - b);

    // 3. Refetch: the cloud does not know the gateway's cursor (as for a database from elsewhere).
    await gateway.stop();
    const db = new Database(join(gateway.dataDir, DATABASE_FILE));
    const unknownCursor = Number(version) * 1000;
    db.prepare('UPDATE sync_state SET cursor = ? WHERE id = 1').run(String(unknownCursor));
    db.close();
    await gateway.start();
    // Done once the cursor is the cloud's again: before the gateway's first pull, the status (not
    // refetching, every customer, the unknown cursor) would look done too.
    const refetch = await watchSync(
      gateway,
      'refetch',
      (status) =>
        !status.refetching &&
        status.replica_size === CUSTOMERS &&
        Number(status.cursor) >= Number(version) &&
        Number(status.cursor) < unknownCursor,
    );
    const median = timings[Math.floor(timings.length / 2)]!;
    process.stderr.write(`top-up to kiosk (ms): ${timings.map((t) => t.toFixed(0)).join(', ')}\n`);
    process.stderr.write(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}\n`);
    const result = {
      [MILLION ? 'replica_1m_s' : 'replica_100k_s']: Number(replicaS.toFixed(2)),
      customers: CUSTOMERS,
      topup_to_kiosk_ms: Math.round(median),
      topup_to_kiosk_max_ms: Math.round(timings.at(-1)!),
      topups: TOPUPS,
      ...replicaCpu,
      gateway_rss_mb: Math.round(rss),
      gateway_peak_rss_mb: Math.round(Math.max(peakRss, rss)),
      max_event_loop_delay_ms: first.maxDelayMs,
      refetch_s: Number(refetch.seconds.toFixed(2)),
      refetch_max_event_loop_delay_ms: refetch.maxDelayMs,
      refetch_peak_rss_mb: Math.round(refetch.peakRssMb),
      cloud_db: cloud.db.kind,
      loadavg_1m: Number(loadavg()[0]!.toFixed(1)),
    };
    const delayMet = Math.max(first.maxDelayMs, refetch.maxDelayMs) <= TARGETS['max_event_loop_delay_ms']!;
    const met = MILLION
      ? replicaS <= TARGETS['replica_s']! && Math.max(rss, refetch.peakRssMb) <= TARGETS['gateway_rss_mb']! && delayMet
      : replicaS <= TARGETS['replica_s']! && median <= TARGETS['topup_to_kiosk_ms']! && delayMet;
    process.stdout.write(`${JSON.stringify({ ...result, targets: TARGETS, targets_met: met })}\n`);
  } finally {
    await gateway.close();
    await cloud.close();
    if (databaseUrl) await dropSchema(databaseUrl, schema);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
