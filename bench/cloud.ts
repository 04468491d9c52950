/**
 * Cloud benchmark: USSD requests/s and p99 over real HTTP on loopback with concurrent clients,
 * then ledger events ingested/s through the kiosk API. Runs on the PostgreSQL server in
 * DATABASE_URL (a scratch schema, dropped afterwards); without it, on PGlite, labelled as such.
 * The cloud runs in a child process so the load generator does not share its event loop.
 *
 *   npm run bench:cloud                                   # PGlite
 *   DATABASE_URL=postgres://… npm run bench:cloud         # PostgreSQL
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { newId, type LedgerEvent } from '@tusafishe/protocol';

const USSD_SECONDS = Number(process.env['BENCH_USSD_SECONDS'] ?? 8);
const USSD_CONCURRENCY = Number(process.env['BENCH_USSD_CONCURRENCY'] ?? 8);
const EVENT_BATCHES = Number(process.env['BENCH_EVENT_BATCHES'] ?? 120);
const EVENT_CONCURRENCY = 4;
const BATCH_SIZE = 500;
const CUSTOMERS = 400;

interface Seed {
  url: string;
  backend: string;
  kioskId: string;
  secret: string;
  phones: string[];
  accountIds: string[];
}

async function serve(): Promise<void> {
  const { startCloud } = await import('@tusafishe/cloud');
  const { createCustomer } = await import('@tusafishe/cloud');
  const { createKiosk } = await import('@tusafishe/cloud');
  const { recordAdjustment } = await import('@tusafishe/cloud');
  const databaseUrl = process.env['DATABASE_URL'];
  const schema = databaseUrl ? `bench_${randomBytes(4).toString('hex')}` : undefined;
  const cloud = await startCloud({
    ...(databaseUrl ? { databaseUrl, databaseSchema: schema } : {}),
    port: 0,
    logger: false,
    rateLimits: { requestsPerPhonePerMinute: 1e9, requestsPerKioskPerMinute: 1e9 },
    providers: { statusPollIntervalMs: 0 },
  });
  const kiosk = await createKiosk(cloud.db, { kioskId: 'BENCH-KIOSK' });
  const phones: string[] = [];
  const accountIds: string[] = [];
  for (let i = 0; i < CUSTOMERS; i += 1) {
    const phone = `+25677${String(5_000_000 + i).padStart(7, '0')}`;
    const customer = await createCustomer(cloud.db, { phone, name: `Bench ${i}`, pin: '2580' });
    await recordAdjustment(cloud.db, {
      accountId: customer.account_id,
      amountMl: 1_000_000_000,
      reason: 'bench credit',
      operator: 'bench',
    });
    phones.push(phone);
    accountIds.push(customer.account_id);
  }
  const seed: Seed = {
    url: cloud.url,
    backend: cloud.db.kind,
    kioskId: kiosk.kioskId,
    secret: kiosk.secret,
    phones,
    accountIds,
  };
  process.stdout.write(`${JSON.stringify(seed)}\n`);
  process.once('SIGTERM', () => {
    void (async () => {
      await cloud.close();
      if (databaseUrl && schema) {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
        await client.end();
      }
      process.exit(0);
    })();
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(
  url: string,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}${path}`,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function ussdLoad(
  seed: Seed,
): Promise<{ requests: number; perSecond: number; p50: number; p99: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  // Main menu, balance, the buy-amount confirmation, and a stranger's first screen.
  const texts = ['', '1', '2*1000', ''];
  const deadline = performance.now() + USSD_SECONDS * 1000;
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      n += 1;
      const stranger = n % 4 === 3;
      const phone = stranger ? `+25678${String(n % 9_000_000).padStart(7, '0')}` : seed.phones[n % seed.phones.length]!;
      const form = new URLSearchParams({
        sessionId: `bench-${n}`,
        serviceCode: '*123#',
        phoneNumber: phone,
        networkCode: '64110',
        text: texts[n % 4]!,
      });
      const started = performance.now();
      const response = await post(seed.url, '/ussd', form.toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      latencies.push(performance.now() - started);
      if (response.status !== 200 || !/^(CON|END) /.test(response.body) || response.body.startsWith('END Service busy'))
        errors += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: USSD_CONCURRENCY }, client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 100) / 100;
  return {
    requests: latencies.length,
    perSecond: Math.round(latencies.length / elapsed),
    p50: at(0.5),
    p99: at(0.99),
    errors,
  };
}

async function ingestLoad(seed: Seed): Promise<{ events: number; perSecond: number }> {
  const authorization = `Basic ${Buffer.from(`${seed.kioskId}:${seed.secret}`).toString('base64')}`;
  let next = 0;
  let acked = 0;
  const batch = (): LedgerEvent[] =>
    Array.from({ length: BATCH_SIZE }, (_, i) => ({
      event_id: newId(),
      type: 'dispense' as const,
      account_id: seed.accountIds[(next * BATCH_SIZE + i) % seed.accountIds.length]!,
      amount_ml: -20_000,
      kiosk_id: seed.kioskId,
      dispenser_id: 'D1',
      source_id: newId(),
      occurred_at: Date.now(),
    }));
  const pusher = async (): Promise<void> => {
    while (next < EVENT_BATCHES) {
      next += 1;
      const response = await post(seed.url, '/kiosk/v1/events', JSON.stringify({ events: batch() }), {
        authorization,
        'content-type': 'application/json',
      });
      if (response.status !== 200) throw new Error(`push failed: ${response.status} ${response.body.slice(0, 200)}`);
      acked += (JSON.parse(response.body) as { acked: string[] }).acked.length;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: EVENT_CONCURRENCY }, pusher));
  const elapsed = (performance.now() - started) / 1000;
  return { events: acked, perSecond: Math.round(acked / elapsed) };
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  const seed = await new Promise<Seed>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Seed);
    });
    child.once('exit', (code) => reject(new Error(`cloud exited early (${code})`)));
  });
  try {
    // Warm up JIT, connections and the credential cache before measuring.
    await post(
      seed.url,
      '/ussd',
      new URLSearchParams({ sessionId: 'w', serviceCode: '*123#', phoneNumber: seed.phones[0]!, text: '' }).toString(),
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    );
    const ussd = await ussdLoad(seed);
    const events = await ingestLoad(seed);
    console.log(`backend ${seed.backend}; ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
    console.log(
      `USSD: ${ussd.requests} requests in ${USSD_SECONDS}s by ${USSD_CONCURRENCY} clients: ${ussd.perSecond}/s, p50 ${ussd.p50} ms, p99 ${ussd.p99} ms, errors ${ussd.errors}`,
    );
    console.log(
      `events: ${events.events} ingested in batches of ${BATCH_SIZE} by ${EVENT_CONCURRENCY} pushers: ${events.perSecond}/s`,
    );
    console.log(
      JSON.stringify({
        backend: seed.backend,
        ussd_per_s: ussd.perSecond,
        ussd_p50_ms: ussd.p50,
        ussd_p99_ms: ussd.p99,
        ussd_errors: ussd.errors,
        events_per_s: events.perSecond,
        targets_met: ussd.perSecond >= 1000 && ussd.p99 <= 50 && events.perSecond >= 5000,
      }),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    agent.destroy();
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
