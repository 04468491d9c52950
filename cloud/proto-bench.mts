/**
 * Operations console benchmark, over real HTTP on loopback with a signed-in operator:
 * customer search p99 over 100,000 customers, a month's analytics of 600 kiosks (30 days of
 * dispenses, payments, hourly authorisation counts, contact hours, alerts), and the monthly PDF.
 * The data is made in PostgreSQL by bulk statements (generate_series), the dispenses a day per
 * statement through the ledger's rollup trigger, as merges fill it.
 *
 *   DATABASE_URL=postgres://… npm run bench:console      # a scratch schema, dropped afterwards
 *   BENCH_KIOSKS=60 BENCH_CUSTOMERS=10000 …              # smaller
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { startCloud, type RunningCloud } from './src/cloud.js';
import { analyse } from './src/analytics/analytics.js';
import { monthlyReportPdf } from './src/reports/monthly-report.js';

const KIOSKS = Number(process.env['BENCH_KIOSKS'] ?? 600);
const CUSTOMERS = Number(process.env['BENCH_CUSTOMERS'] ?? 100_000);
const SEARCHES = Number(process.env['BENCH_SEARCHES'] ?? 600);
const RUNS = 5;
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

const databaseUrl = process.env['TEST_DATABASE_URL']!;
const cloud = await startCloud({
  databaseUrl,
  databaseSchema: 'proto_bench',
  port: 0,
  logger: false,
  usageTimeZone: ZONE,
  providers: { statusPollIntervalMs: 0 },
});
const have = await cloud.db.query<{ n: number }>('SELECT count(*)::int AS n FROM kiosks');
if (have[0]!.n === 0) console.log(await seed(cloud.db));
for (let i = 0; i < 4; i++) {
  let t = performance.now();
  const a = await analyse(cloud.db, { from: MONTH + '-01', to: MONTH + '-30', timeZone: ZONE });
  console.log('fleet', Math.round(performance.now() - t), a.totals);
  t = performance.now();
  await analyse(cloud.db, { from: MONTH + '-01', to: MONTH + '-30', timeZone: ZONE, kioskId: 'BK0007' });
  console.log('kiosk', Math.round(performance.now() - t));
  t = performance.now();
  const pdf = await monthlyReportPdf(cloud.db, { month: MONTH, timeZone: ZONE });
  console.log('pdf', Math.round(performance.now() - t), pdf.length);
}
await cloud.close();
