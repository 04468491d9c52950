/**
 * The cloud's CPU per long-polling kiosk: N kiosks (each its own credential) long-poll the kiosk
 * API while customers change one at a time; each change is made once every kiosk holds the one
 * before, so every change is fanned out to every kiosk. Reports the cloud process's CPU
 * (process.cpuUsage, in the cloud's own process) over the changes, per kiosk per change, and the
 * database transactions the run cost (pg_stat_database). Needs a PostgreSQL server
 * (DATABASE_URL, or TEST_DATABASE_URL); a scratch schema, dropped afterwards.
 *
 *   DATABASE_URL=postgres://… npm run bench:feed -- --kiosks 200 --changes 30
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { SYNC_PATHS, type PullResponse } from '@tusafishe/protocol';

interface Seed {
  url: string;
  kiosks: { kioskId: string; secret: string }[];
  accountId: string;
}

type ToCloud = 'cpu' | 'stop';
type FromCloud = { seed: Seed } | { cpu: NodeJS.CpuUsage } | { stopped: true };

const databaseUrl = process.env['DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];

/** The cloud, in its own process so the kiosks' load does not share its event loop or its CPU figure. */
async function serve(kiosks: number, schema: string): Promise<void> {
  const { startCloud, createCustomer, createKiosk } = await import('@tusafishe/cloud');
  const cloud = await startCloud({
    databaseUrl: databaseUrl!,
    databaseSchema: schema,
    port: 0,
    logger: false,
    rateLimits: { requestsPerKioskPerMinute: 1e9, requestsPerAddressPerMinute: 1e9 },
    providers: { statusPollIntervalMs: 0 },
  });
  const customer = await createCustomer(cloud.db, { phone: '+256772999001', name: 'Bench' });
  const credentials = [];
  for (let i = 0; i < kiosks; i += 1) credentials.push(await createKiosk(cloud.db, { kioskId: `FEED-${i}` }));
  const send = (message: FromCloud): boolean => process.send!(message);
  send({ seed: { url: cloud.url, kiosks: credentials, accountId: customer.account_id } });
  process.on('message', (message: ToCloud) => {
    if (message === 'cpu') send({ cpu: process.cpuUsage() });
    else void cloud.close().then(() => send({ stopped: true }));
  });
}

function ask<T>(child: ChildProcess, message: ToCloud, pick: (reply: FromCloud) => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (reply: FromCloud): void => {
      const value = pick(reply);
      if (value === undefined) return;
      child.off('message', onMessage);
      resolve(value);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** One kiosk long-polling until stopped; `onVersion` hears every cursor it reaches. */
async function longPoll(
  url: string,
  kiosk: Seed['kiosks'][number],
  stop: AbortSignal,
  onCursor: (cursor: number) => void,
) {
  const authorization = `Basic ${Buffer.from(`${kiosk.kioskId}:${kiosk.secret}`).toString('base64')}`;
  let cursor = '0';
  let errors = 0;
  while (!stop.aborted) {
    try {
      const response = await fetch(`${url}${SYNC_PATHS.customers}?cursor=${cursor}&limit=1000&wait_s=25`, {
        headers: { authorization },
        signal: stop,
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as PullResponse;
      cursor = body.cursor;
      onCursor(Number(cursor));
    } catch {
      if (!stop.aborted) errors += 1;
    }
  }
  return errors;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { kiosks: { type: 'string', default: '200' }, changes: { type: 'string', default: '30' } },
  });
  const kiosks = Number(values.kiosks);
  const changes = Number(values.changes);
  if (!databaseUrl) throw new Error('set DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server');
  const schema = `bench_feed_${randomBytes(4).toString('hex')}`;
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--serve', String(kiosks), schema],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const db = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
  try {
    const seed = await new Promise<Seed>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`cloud exited with ${code}`)));
      child.on('message', (message: FromCloud) => 'seed' in message && resolve(message.seed));
    });
    await db.connect();
    const reached = new Array<number>(kiosks).fill(0);
    let waiting: { version: number; left: number; resolve: () => void } | undefined;
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // every kiosk's requests listen to it
    const polls = seed.kiosks.map((kiosk, i) =>
      longPoll(seed.url, kiosk, stop.signal, (cursor) => {
        if (waiting && reached[i]! < waiting.version && cursor >= waiting.version) {
          waiting.left -= 1;
          if (waiting.left === 0) waiting.resolve();
        }
        reached[i] = cursor;
      }),
    );
    /** Changes the customer once; resolves when every kiosk holds the change, with how long that took. */
    const change = async (): Promise<number> => {
      const started = performance.now();
      const rows = await db.query<{ version: string }>(
        'UPDATE customers SET name = $2 WHERE account_id = $1 RETURNING version',
        [seed.accountId, `Bench ${randomBytes(3).toString('hex')}`],
      );
      const version = Number(rows.rows[0]!.version);
      await new Promise<void>((resolve) => {
        const left = reached.filter((cursor) => cursor < version).length;
        if (left === 0) resolve();
        else waiting = { version, left, resolve };
      });
      return performance.now() - started;
    };
    // Warm-up: every kiosk connected, authenticated once and caught up, before anything is measured.
    await change();
    const xacts = async (): Promise<number> => {
      // Other backends' counters reach the statistics within a second of going idle.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const rows = await db.query<{ n: string }>(
        'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
      );
      return Number(rows.rows[0]!.n);
    };
    const xactsBefore = await xacts();
    const cpuBefore = await ask(child, 'cpu', (reply) => ('cpu' in reply ? reply.cpu : undefined));
    const latencies: number[] = [];
    for (let i = 0; i < changes; i += 1) latencies.push(await change());
    const cpuAfter = await ask(child, 'cpu', (reply) => ('cpu' in reply ? reply.cpu : undefined));
    stop.abort();
    const errors = (await Promise.all(polls)).reduce((sum, n) => sum + n, 0);
    const xactsAfter = await xacts();
    const cpuMs = (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        kiosks,
        changes,
        cloud_cpu_ms: Math.round(cpuMs),
        cloud_cpu_us_per_kiosk_per_change: Math.round((cpuMs * 1000) / (kiosks * changes)),
        // Includes the bench's own update (one a change).
        db_xacts_per_change: Math.round(((xactsAfter - xactsBefore) / changes) * 10) / 10,
        change_to_all_p50_ms: Math.round(percentile(latencies, 50)),
        change_to_all_p99_ms: Math.round(percentile(latencies, 99)),
        errors,
      }),
    );
  } finally {
    if (child.connected) await ask(child, 'stop', (reply) => ('stopped' in reply ? true : undefined));
    child.kill();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await db.end();
  }
}

if (process.argv[2] === '--serve') await serve(Number(process.argv[3]), process.argv[4]!);
else await main();
