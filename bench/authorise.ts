/**
 * Authorisation benchmark (issue 2): 6 dispensers authorising concurrently over real
 * MQTT (TCP loopback) against a 100,000-customer replica.
 *
 * The gateway runs in its own process, so its RSS is its own: this file, bundled with
 * esbuild the way the gateway is deployed (no tsx in the process) and forked with
 * `--gateway`. The driver here runs the dispensers. The gateway is the real
 * `startGateway`, plus one extra broker login registered through the `setup` seam so a
 * bare MQTT echo can measure the broker's floor. A dispenser serves a customer as a
 * real one must: request → answer (timed) → completion → acknowledgement. Two phases:
 * simultaneous rounds (all six customers press # at the same instant, then the next
 * six: `p50_ms`/`p99_ms`, the wait a customer sees at the busiest moment) and
 * saturation (every dispenser back to back with no pause: `per_s`, the capacity, and
 * `saturated_p50_ms`/`saturated_p99_ms`, queueing included). Prints one JSON line last.
 *
 *   npm run bench:authorise                 # 100,000 customers
 *   npm run bench:authorise -- --million    # the same at 100,000 then 1,000,000: p99 ratio, RSS
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthApproved, CustomerRecord } from '@tusafishe/protocol';
import { hashSecret, parseSecretHash, verifySecret } from '@tusafishe/protocol/secret-hash';
import { bundleGatewayEntry } from '../scripts/gateway-bundle.js';
import { pino } from 'pino';
import { startGateway, DemoCredentials, seedDemoData, Store } from '@tusafishe/gateway';
import { GATEWAY_MALLOC_ENV, GATEWAY_NODE_FLAGS } from '@tusafishe/gateway/runtime';
import { connectMqtt, TestDispenser } from '@tusafishe/gateway/testing';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Inside node_modules so the bundle resolves the external packages from the root. */
const BUNDLE_DIR = join(ROOT, 'node_modules/.cache/tusafishe-bench');

/** `--million`: the same run at 100,000 and at 1,000,000 customers (target: p99 within 1.2×, RSS ≤ 200 MB). */
const SIZES = process.argv.includes('--million') ? [100_000, 1_000_000] : [100_000];
const MILLION_P99_RATIO = 1.2;
const MILLION_RSS_MB = 200;
const DISPENSERS = ['D1', 'D2', 'D3', 'D4', 'D5', 'D6'];
const PER_DISPENSER = Number(process.env.BENCH_PER_DISPENSER ?? 400);
const WARMUP_PER_DISPENSER = 20;
const ECHO_ROUNDS = 1000;
/** Distinct salted hashes, reused across the replica (see bench/RESULTS.md). */
const DISTINCT_HASHES = 32;
const ECHO_USER = 'bench-echo';
/**
 * Node flags of the gateway process, as in the image (`@tusafishe/gateway/runtime`, with its
 * allocator environment). BENCH_GATEWAY_NODE_ARGS="" runs with Node's defaults.
 */
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? GATEWAY_NODE_FLAGS.join(' '))
  .split(' ')
  .filter(Boolean);

interface Ready {
  mqttPort: number;
  rss: number;
}

interface Memory {
  memory: NodeJS.MemoryUsage;
}

async function runGatewayChild(): Promise<void> {
  const echoPassword = process.env.BENCH_ECHO_PASSWORD ?? '';
  const gateway = await startGateway({
    dataDir: process.env.DATA_DIR ?? '',
    kioskId: 'K1',
    host: '127.0.0.1',
    mqttPort: 0,
    httpPort: 0,
    logger: pino({ level: 'warn' }),
    setup: ({ broker }) =>
      broker.authorizer.add(async ({ username, password }) => {
        if (username !== ECHO_USER) return null;
        if (password !== echoPassword) return { refused: 'wrong password' };
        const mine = (topic: string) => topic.startsWith('bench/echo/');
        return { kind: 'bench', id: ECHO_USER, mayPublish: mine, maySubscribe: mine };
      }),
  });
  process.send?.({ mqttPort: gateway.mqttPort, rss: process.memoryUsage().rss } satisfies Ready);
  process.on('message', (message) => {
    if (message === 'memory') process.send?.({ memory: process.memoryUsage() } satisfies Memory);
  });
  process.on('disconnect', () => void gateway.close().then(() => process.exit(0)));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const round = (value: number) => Math.round(value * 100) / 100;

async function buildReplica(dataDir: string, customers: number): Promise<void> {
  const store = Store.open(dataDir);
  await seedDemoData(store, 'K1', dataDir, 450);
  const hashes = await Promise.all(Array.from({ length: DISTINCT_HASHES }, () => hashSecret('1234')));
  const page: CustomerRecord[] = [];
  for (let i = 0; i < customers; i++) {
    page.push({
      account_id: `B${String(i).padStart(7, '0')}`,
      phone: `+25471${String(i).padStart(7, '0')}`,
      name: `Bench ${i}`,
      pin_hash: hashes[i % DISTINCT_HASHES]!,
      status: 'active',
      expires_at: null,
      daily_limit_ml: null,
      allowed_kiosks: null,
      balance_ml: 10_000_000,
      locked_until: null,
      version: 1,
    });
    if (page.length === 10_000) store.applyCustomerRecords(page.splice(0));
  }
  store.setLastCloudContact(Date.now());
  store.close();
}

async function hashMs(): Promise<number> {
  const hash = await hashSecret('1234');
  const rounds = 100;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await verifySecret('1234', hash);
  return (performance.now() - start) / rounds;
}

async function echoP99(mqttPort: number, password: string): Promise<number> {
  const client = await connectMqtt(mqttPort, ECHO_USER, password);
  await client.subscribeAsync('bench/echo/#', { qos: 1 });
  const latencies: number[] = [];
  for (let i = 0; i < ECHO_ROUNDS; i++) {
    const topic = `bench/echo/${i}`;
    const start = performance.now();
    const back = new Promise<void>((resolve) => {
      const onMessage = (received: string) => {
        if (received !== topic) return;
        client.off('message', onMessage);
        resolve();
      };
      client.on('message', onMessage);
    });
    await client.publishAsync(topic, '{"echo":true}', { qos: 1 });
    await back;
    latencies.push(performance.now() - start);
  }
  await client.endAsync();
  latencies.sort((a, b) => a - b);
  return percentile(latencies.slice(Math.floor(ECHO_ROUNDS / 10)), 99);
}

/** One customer at one dispenser: request → answer (timed, ms) → completion → acknowledgement. */
async function serveOne(dispenser: TestDispenser, customer: number, customers: number): Promise<number> {
  const request = dispenser.request(`071${String(customer % customers).padStart(7, '0')}`, 1000);
  const start = performance.now();
  const response = await dispenser.authorise(request);
  const latency = performance.now() - start;
  if (!response.approved) throw new Error(`customer ${customer} denied: ${response.reason}`);
  await dispenser.complete(dispenser.completion(response as AuthApproved, 1000));
  return latency;
}

/** One dispenser serving `count` customers back to back, with no pause: saturates the gateway. */
async function serveCustomers(
  dispenser: TestDispenser,
  count: number,
  offset: number,
  customers: number,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) latencies.push(await serveOne(dispenser, offset + i * 7919, customers));
  return latencies;
}

/** Every dispenser's customer presses # at the same instant, round after round: the busiest moment a kiosk has. */
async function simultaneousRounds(
  dispensers: TestDispenser[],
  rounds: number,
  offset: number,
  customers: number,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let round = 0; round < rounds; round++) {
    latencies.push(
      ...(await Promise.all(
        dispensers.map((d, i) => serveOne(d, offset + (round * dispensers.length + i) * 7919, customers)),
      )),
    );
  }
  return latencies;
}

/** Bundles this file as the deployable is bundled: our TypeScript inlined, npm packages external. */
function bundleSelf(): Promise<string> {
  return bundleGatewayEntry({
    entry: fileURLToPath(import.meta.url),
    outfile: join(BUNDLE_DIR, 'authorise.mjs'),
    external: ['esbuild', 'mqtt'],
  });
}

function ask<T>(child: ChildProcess, message: string | null, key: keyof T): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (reply: unknown) => {
      if (typeof reply !== 'object' || reply === null || !(key in reply)) return;
      child.off('message', onMessage);
      resolve(reply as T);
    };
    child.on('message', onMessage);
    if (message) child.send(message);
  });
}

/** One replica size: build it, start the gateway on it, run both phases; the figures. */
async function measure(customers: number, bundle: string, hash_ms: number): Promise<Record<string, number | string>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tusafishe-bench-'));
  const echoPassword = randomBytes(12).toString('hex');
  let child: ChildProcess | undefined;
  try {
    const built = performance.now();
    await buildReplica(dataDir, customers);
    console.error(`replica of ${customers} customers built in ${Math.round(performance.now() - built)} ms`);
    child = fork(bundle, ['--gateway'], {
      execArgv: GATEWAY_NODE_ARGS,
      env: { ...process.env, ...GATEWAY_MALLOC_ENV, DATA_DIR: dataDir, BENCH_ECHO_PASSWORD: echoPassword },
    });
    const ready = await ask<Ready>(child, null, 'mqttPort');
    const { mqttPort } = ready;
    const demo = DemoCredentials.parse(JSON.parse(await readFile(join(dataDir, 'demo-credentials.json'), 'utf8')));
    const dispensers = await Promise.all(DISPENSERS.map((id) => TestDispenser.connect({ mqttPort, demo }, id)));

    const echo_p99_ms = await echoP99(mqttPort, echoPassword);
    await Promise.all(dispensers.map((d, i) => serveCustomers(d, WARMUP_PER_DISPENSER, 50_000 + i * 1000, customers)));

    const simultaneous = (await simultaneousRounds(dispensers, PER_DISPENSER, 70_001, customers)).sort((a, b) => a - b);
    const started = performance.now();
    const perDispenser = await Promise.all(
      dispensers.map((d, i) => serveCustomers(d, PER_DISPENSER, i * 13_331, customers)),
    );
    const elapsedS = (performance.now() - started) / 1000;
    const saturated = perDispenser.flat().sort((a, b) => a - b);
    const { memory } = await ask<Memory>(child, 'memory', 'memory');
    await Promise.all(dispensers.map((d) => d.close()));
    return {
      p50_ms: round(percentile(simultaneous, 50)),
      p99_ms: round(percentile(simultaneous, 99)),
      per_s: round(saturated.length / elapsedS),
      saturated_p50_ms: round(percentile(saturated, 50)),
      saturated_p99_ms: round(percentile(saturated, 99)),
      hash_ms: round(hash_ms),
      echo_p99_ms: round(echo_p99_ms),
      rss_mb: round(memory.rss / 2 ** 20),
      rss_at_start_mb: round(ready.rss / 2 ** 20),
      heap_used_mb: round(memory.heapUsed / 2 ** 20),
      authorisations: simultaneous.length + saturated.length,
      customers,
      dispensers: DISPENSERS.length,
      gateway_node_flags: GATEWAY_NODE_ARGS.join(' '),
    };
  } finally {
    if (child) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.disconnect();
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const hash_ms = await hashMs();
  console.error(`PIN hash ${JSON.stringify(parseSecretHash(await hashSecret('1')).cost)}: ${hash_ms.toFixed(2)} ms`);
  const bundle = await bundleSelf();
  const results = [];
  for (const customers of SIZES) {
    const result = await measure(customers, bundle, hash_ms);
    results.push(result);
    if (SIZES.length > 1) console.error(JSON.stringify(result));
  }
  const [base, million] = results as [Record<string, number>, Record<string, number> | undefined];
  if (!million) return console.log(JSON.stringify(base));
  const ratio = million['p99_ms']! / base['p99_ms']!;
  console.log(
    JSON.stringify({
      ...million,
      p99_100k_ms: base['p99_ms'],
      p99_ratio: round(ratio),
      rss_100k_mb: base['rss_mb'],
      targets: { p99_ratio: MILLION_P99_RATIO, rss_mb: MILLION_RSS_MB },
      targets_met: ratio <= MILLION_P99_RATIO && million['rss_mb']! <= MILLION_RSS_MB,
    }),
  );
}

if (process.argv.includes('--gateway')) await runGatewayChild();
else await main();
