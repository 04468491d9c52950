/**
 * Operations console benchmark, over real HTTP on loopback with a signed-in operator:
 * customer search p99 over 100,000 customers, a month's analytics of 600 kiosks (30 days of
 * dispenses, payments, hourly authorisation counts, contact hours, alerts), and the monthly PDF.
 * The data is made in PostgreSQL by bulk statements (generate_series), the dispenses a day per
 * statement through the ledger's rollup trigger, as merges fill it.
 *
 *   DATABASE_URL=postgres://… npm run bench:console      # a scratch schema, dropped afterwards
 *   BENCH_KIOSKS=60 BENCH_CUSTOMERS=10000 …              # smaller
 *   BENCH_ONLY=search …                                  # customers and searches only (≈ 2 min)
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { startCloud, type RunningCloud } from '@tusafishe/cloud';
import { signInAs } from '@tusafishe/cloud/testing';

const KIOSKS = Number(process.env['BENCH_KIOSKS'] ?? 600);
const CUSTOMERS = Number(process.env['BENCH_CUSTOMERS'] ?? 100_000);
const SEARCHES = Number(process.env['BENCH_SEARCHES'] ?? 600);
const RUNS = 5;
/** `search`: only the customers and the searches (the search reads nothing else). */
const SEARCH_ONLY = process.env['BENCH_ONLY'] === 'search';
/** A past month of 30 days: uptime counts the hours up to now. */
const MONTH = '2026-09';
const DAYS = 30;
const ZONE = 'Africa/Nairobi';
const TARGETS = { search_p99_ms: 50, fleet_analytics_ms: 1000, pdf_ms: 2000 };

type Db = RunningCloud['db'];

/** Customers of a kiosk near home, drawing 5–20 L on 6 days in 10, now and then at the next kiosk. */
async function seed(db: Db): Promise<Record<string, number>> {
  const started = performance.now();
  const monthStart = `'${MONTH}-01T00:00:00+03'::timestamptz`;
  await db.query(
    `INSERT INTO kiosks (kiosk_id, name, credential_hash, created_at)
     SELECT 'BK' || lpad(k::text, 4, '0'), 'Kiosk ' || k, 'bench', ${monthStart} - interval '60 days'
     FROM generate_series(1, $1) k`,
    [KIOSKS],
  );
  // Half in Kenya (M-Pesa, KES), half in Uganda (MTN and Airtel, UGX); names from common ones.
  await db.query(
    `INSERT INTO customers (account_id, phone, name, pin_hash, status, allowed_kiosks)
     SELECT 'BN' || lpad(c::text, 8, '0'),
            CASE WHEN c % 2 = 0 THEN '+2547' ELSE '+2567' END || lpad(c::text, 8, '0'),
            (ARRAY['Amina','Brian','Chloe','David','Esther','Faith','Grace','Hassan','Irene','John'])[1 + c % 10] || ' ' ||
            (ARRAY['Achieng','Kamau','Okello','Wanjiru','Mugisha','Nakato','Otieno','Auma','Kato','Njeri','Mwangi'])[1 + c % 11],
            'bench', 'active', CASE WHEN c % 3 = 0 THEN ARRAY['BK' || lpad((1 + c % $2)::text, 4, '0')] END
     FROM generate_series(1, $1) c`,
    [CUSTOMERS, KIOSKS],
  );
  if (SEARCH_ONLY) {
    await db.exec('ANALYZE');
    return { dispenses: 0, seed_s: Math.round((performance.now() - started) / 100) / 10 };
  }
  let dispenses = 0;
  for (let day = 0; day < DAYS; day += 1) {
    const [inserted] = await db.query<{ count: number }>(
      `WITH inserted AS (INSERT INTO ledger_events (event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at)
       SELECT gen_random_uuid(), 'dispense', 'BN' || lpad(c::text, 8, '0'), -5000 * (1 + (c + $2) % 4),
              'BK' || lpad((1 + (c + CASE WHEN (c * 7 + $2) % 20 = 0 THEN 1 ELSE 0 END) % $3)::text, 4, '0'),
              'D' || (1 + (c + $2) % 6), gen_random_uuid()::text,
              (extract(epoch FROM ${monthStart})::bigint + $2 * 86400 + 21600 + (c * 7919 + $2 * 104729) % 50400) * 1000
       FROM generate_series(1, $1) c WHERE (c * 31 + $2 * 17) % 10 < 6
       RETURNING 1) SELECT count(*) AS count FROM inserted`,
      [CUSTOMERS, day, KIOSKS],
    );
    dispenses += Number(inserted?.count);
  }
  // Three top-ups a customer, one in twenty failed.
  await db.query(
    `INSERT INTO payments (payment_id, provider, account_id, phone, amount_minor, currency, kiosk_id, status, created_at, settled_at)
     SELECT gen_random_uuid(), CASE WHEN c % 2 = 0 THEN 'mpesa' WHEN c % 4 = 1 THEN 'mtn' ELSE 'airtel' END,
            'BN' || lpad(c::text, 8, '0'), CASE WHEN c % 2 = 0 THEN '+2547' ELSE '+2567' END || lpad(c::text, 8, '0'),
            CASE WHEN c % 2 = 0 THEN 10000 ELSE 1000 * (1 + p) END, CASE WHEN c % 2 = 0 THEN 'KES' ELSE 'UGX' END,
            CASE WHEN c % 3 = 0 THEN 'BK' || lpad((1 + c % $2)::text, 4, '0') END,
            CASE WHEN (c + p) % 20 = 0 THEN 'failed' ELSE 'successful' END, at, at + interval '20 seconds'
     FROM generate_series(1, $1) c, generate_series(0, 2) p,
          LATERAL (SELECT ${monthStart} + ((c * 13 + p * 9973) % (${DAYS} * 86400)) * interval '1 second' AS at) t`,
    [CUSTOMERS, KIOSKS],
  );
  // Hourly counts for the hours a kiosk served (06–20 EAT): approvals, and a denial reason in half of them.
  await db.query(
    `WITH hours AS (
       SELECT 'BK' || lpad(k::text, 4, '0') AS kiosk_id, k, h, row_number() OVER () AS n
       FROM generate_series(1, $1) k, generate_series(${monthStart}, ${monthStart} + interval '${DAYS} days' - interval '1 hour', interval '1 hour') h
       WHERE extract(hour FROM h AT TIME ZONE '${ZONE}') BETWEEN 6 AND 20
     )
     INSERT INTO kiosk_auth_counts (kiosk_id, hour, outcome, count)
     SELECT kiosk_id, h, 'approved', 4 + n % 9 FROM hours
     UNION ALL
     SELECT kiosk_id, h, (ARRAY['WRONG_PIN','INSUFFICIENT_BALANCE','DAILY_LIMIT','UNKNOWN_CUSTOMER','TANK_LOW'])[1 + (n * 7) % 5], 1 + n % 3
     FROM hours WHERE n % 2 = 0`,
    [KIOSKS],
  );
  // Every hour reached the cloud but one in fifty.
  await db.query(
    `INSERT INTO kiosk_contact_hours (kiosk_id, hour)
     SELECT 'BK' || lpad(k::text, 4, '0'), h
     FROM generate_series(1, $1) k, generate_series(${monthStart}, ${monthStart} + interval '${DAYS} days' - interval '1 hour', interval '1 hour') h
     WHERE (k * 13 + extract(epoch FROM h)::bigint / 3600) % 50 <> 0`,
    [KIOSKS],
  );
  await db.query(
    `INSERT INTO alerts (alert_id, source, rule, subject, kiosk_id, severity, message, raised_at, cleared_at)
     SELECT 'bench-' || k || '-' || a, 'kiosk', 'tank_low', 'BK' || lpad(k::text, 4, '0'), 'BK' || lpad(k::text, 4, '0'),
            (ARRAY['critical','warning','info'])[1 + (k + a) % 3], 'Tank low', at, at + interval '2 hours'
     FROM generate_series(1, $1) k, generate_series(1, 5) a,
          LATERAL (SELECT ${monthStart} + ((k * 31 + a * 7717) % (${DAYS} * 86400)) * interval '1 second' AS at) t`,
    [KIOSKS],
  );
  await db.exec('ANALYZE');
  return { dispenses, seed_s: Math.round((performance.now() - started) / 100) / 10 };
}

const quantile = (sorted: number[], q: number): number =>
  Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
const median = (values: number[]): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

async function timed(fetchIt: () => Promise<Response>): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const response = await fetchIt();
  const body = Buffer.from(await response.arrayBuffer());
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body.toString().slice(0, 300)}`);
  return { ms, bytes: body.length };
}

/** A month's analytics of the fleet and of a kiosk (5 runs, median) and the monthly PDF (3 runs). */
async function analyticsAndReports(get: (path: string) => () => Promise<Response>) {
  const month = `from=${MONTH}-01&to=${MONTH}-${DAYS}`;
  const fleet: number[] = [];
  const kiosk: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    fleet.push((await timed(get(`/analytics?${month}`))).ms);
    kiosk.push((await timed(get(`/analytics?${month}&kiosk=BK${String(1 + run).padStart(4, '0')}`))).ms);
  }
  const pdfFleet: number[] = [];
  const pdfKiosk: number[] = [];
  let pdfBytes = 0;
  for (let run = 0; run < 3; run += 1) {
    const report = await timed(get(`/reports/monthly.pdf?month=${MONTH}`));
    pdfFleet.push(report.ms);
    pdfBytes = report.bytes;
    pdfKiosk.push((await timed(get(`/reports/monthly.pdf?month=${MONTH}&kiosk=BK0001`))).ms);
  }
  return {
    fleet_analytics_ms: median(fleet),
    fleet_analytics_max_ms: Math.round(Math.max(...fleet)),
    kiosk_analytics_ms: median(kiosk),
    pdf_fleet_ms: median(pdfFleet),
    pdf_fleet_max_ms: Math.round(Math.max(...pdfFleet)),
    pdf_kiosk_ms: median(pdfKiosk),
    pdf_bytes: pdfBytes,
  };
}

async function main(): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];
  if (!databaseUrl) throw new Error('set DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server');
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const cloud = await startCloud({
    databaseUrl,
    databaseSchema: schema,
    port: 0,
    logger: false,
    usageTimeZone: ZONE,
    providers: { statusPollIntervalMs: 0 },
    rateLimits: { requestsPerAddressPerMinute: 1e9 },
  });
  try {
    const seeded = await seed(cloud.db);
    const finance = await signInAs(cloud, 'finance');
    const support = await signInAs(cloud, 'customer_service');
    const get = (operator: { cookie: string }, path: string) => () =>
      fetch(`${cloud.url}/console/api${path}`, { headers: { cookie: operator.cookie } });

    // Search: a phone as typed at a kiosk, in E.164, an account id, a name (none where the route is missing).
    const searchMs: number[] = [];
    const searchable = (await support.request('GET', '/customers?q=0700')).status !== 404;
    for (let i = 0; searchable && i < SEARCHES; i += 1) {
      const c = 1 + ((i * 7919) % CUSTOMERS);
      const digits = String(c).padStart(8, '0');
      const kenyan = c % 2 === 0;
      const q = [
        `${kenyan ? '07' : '256 7'}${digits}`,
        `+${kenyan ? '2547' : '2567'}${digits}`,
        `BN${digits}`,
        ['Amina Kamau', 'grace', 'Otieno', 'Njeri'][i % 4]!,
      ][i % 4]!;
      searchMs.push((await timed(get(support, `/customers?q=${encodeURIComponent(q)}`))).ms);
    }
    searchMs.sort((a, b) => a - b);

    const reports = SEARCH_ONLY ? null : await analyticsAndReports((path) => get(finance, path));
    const searchP99 = searchable ? quantile(searchMs, 0.99) : null;
    const result = {
      search_p50_ms: searchable ? quantile(searchMs, 0.5) : null,
      search_p99_ms: searchP99,
      searches: searchMs.length,
      ...reports,
      kiosks: KIOSKS,
      days: SEARCH_ONLY ? 0 : DAYS,
      customers: CUSTOMERS,
      dispense_events: seeded['dispenses'],
      seed_s: seeded['seed_s'],
      backend: 'postgres',
      cpus: cpus().length,
      loadavg_1m: Math.round(loadavg()[0]! * 100) / 100,
      targets_met:
        (searchP99 === null || searchP99 <= TARGETS.search_p99_ms) &&
        (reports === null ||
          (reports.fleet_analytics_ms <= TARGETS.fleet_analytics_ms && reports.pdf_fleet_ms <= TARGETS.pdf_ms)),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await cloud.close();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  }
}

await main();
