import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyse, type AnalyticsRange } from '../src/analytics/analytics.js';
import type { Analytics } from '../src/analytics/analytics-schemas.js';
import { setAnalyticsTimeZone } from '../src/analytics/rollups.js';
import type { RunningCloud } from '../src/cloud.js';
import { createCustomer } from '../src/customers/customers.js';
import { createKiosk } from '../src/kiosks/kiosks.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { signInAs, type ConsoleSession } from './console-session.js';
import { dispenseEvent, kioskClient } from './kiosk-client.js';
import { monthlyReportPdf } from '../src/reports/monthly-report.js';

const ARTIFACTS = fileURLToPath(new URL('../../artifacts/reports/', import.meta.url));

/** Runs a poppler tool, `input` on its stdin; resolves to its stdout. */
function run(tool: string, args: string[], input?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(tool, args, { maxBuffer: 8 * 1024 * 1024 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}

const ZONE = 'Africa/Nairobi';
/** An instant in September 2026 (a past month: uptime counts hours up to now), EAT (UTC+3). */
const eat = (day: number, hour: number): number => Date.UTC(2026, 8, day, hour - 3);
const SEPTEMBER = { from: '2026-09-01', to: '2026-09-30', timeZone: ZONE };

describe.each(backends())('analytics on $name', (backend) => {
  let cloud: RunningCloud;
  let finance: ConsoleSession;
  let field: ConsoleSession;
  let support: ConsoleSession;
  const account: Record<'amina' | 'brian' | 'chloe', string> = { amina: '', brian: '', chloe: '' };

  beforeAll(async () => {
    cloud = await startTestCloud(backend, { usageTimeZone: ZONE });
    [finance, field, support] = await Promise.all([
      signInAs(cloud, 'finance'),
      signInAs(cloud, 'field'),
      signInAs(cloud, 'customer_service'),
    ]);
    const k1 = await createKiosk(cloud.db, { kioskId: 'AN-K1' });
    const k2 = await createKiosk(cloud.db, { kioskId: 'AN-K2' });
    await cloud.db.query(`UPDATE kiosks SET created_at = '2026-08-01T00:00:00Z'`);
    for (const [i, name] of (['amina', 'brian', 'chloe'] as const).entries()) {
      const customer = await createCustomer(cloud.db, { phone: `+25677100010${i}`, name, pin: '2580' });
      account[name] = customer.account_id;
    }
    // Through the kiosk API, as gateways push them: the rollups follow the merge.
    const pushed = await kioskClient(cloud.url, k1).push([
      dispenseEvent('AN-K1', account.amina, 20_000, eat(1, 0)), // 1 September 00:xx EAT: still 31 August in UTC
      dispenseEvent('AN-K1', account.amina, 5_000, eat(1, 8)),
      dispenseEvent('AN-K1', account.brian, 10_000, eat(15, 23)),
      dispenseEvent('AN-K1', account.brian, 0, eat(15, 23)), // no water flowed: not a dispense
      dispenseEvent('AN-K1', account.chloe, 1_000, eat(31, 9)), // 1 October
    ]);
    expect(pushed.body).toMatchObject({ rejected: [] });
    const batch = [
      dispenseEvent('AN-K2', account.brian, 30_000, eat(30, 12)),
      dispenseEvent('AN-K2', account.chloe, 2_000, eat(2, 10)),
    ];
    await kioskClient(cloud.url, k2).push(batch);
    // A batch sent again (its acknowledgement lost) counts once.
    await kioskClient(cloud.url, k2).push(batch);

    await cloud.db.query(
      `INSERT INTO payments (payment_id, provider, account_id, phone, amount_minor, currency, kiosk_id, status, settled_at)
       VALUES (gen_random_uuid(), 'mpesa', $1, '+254700000101', 50000, 'KES', NULL, 'successful', '2026-09-01T05:00:00Z'),
              (gen_random_uuid(), 'mpesa', $1, '+254700000101', 25050, 'KES', NULL, 'successful', '2026-09-01T06:00:00Z'),
              (gen_random_uuid(), 'mtn', $2, '+256771000101', 1000, 'UGX', 'AN-K1', 'successful', '2026-09-02T06:00:00Z'),
              (gen_random_uuid(), 'mtn', $2, '+256771000101', 9999, 'UGX', 'AN-K1', 'failed', '2026-09-02T06:00:00Z'),
              (gen_random_uuid(), 'airtel', $2, '+256751000101', 700, 'UGX', NULL, 'successful', '2026-08-31T20:59:00Z')`,
      [account.amina, account.brian],
    );
    await cloud.db.query(
      `INSERT INTO kiosk_auth_counts (kiosk_id, hour, outcome, count) VALUES
         ('AN-K1', '2026-09-03T10:00:00Z', 'approved', 90), ('AN-K1', '2026-09-03T10:00:00Z', 'WRONG_PIN', 6),
         ('AN-K1', '2026-09-04T10:00:00Z', 'INSUFFICIENT_BALANCE', 3), ('AN-K2', '2026-09-03T10:00:00Z', 'approved', 10),
         ('AN-K2', '2026-09-03T10:00:00Z', 'WRONG_PIN', 1), ('AN-K1', '2026-10-01T10:00:00Z', 'WRONG_PIN', 50)`,
    );
    // K1 reached the cloud every hour of September's first 10 days, K2 in 360 hours.
    await cloud.db.query(
      `INSERT INTO kiosk_contact_hours (kiosk_id, hour)
       SELECT 'AN-K1', h FROM generate_series(timestamptz '2026-09-01T00:00:00+03', timestamptz '2026-09-10T23:00:00+03', interval '1 hour') h
       UNION ALL
       SELECT 'AN-K2', h FROM generate_series(timestamptz '2026-09-01T00:00:00+03', timestamptz '2026-09-15T23:00:00+03', interval '1 hour') h`,
    );
    await cloud.db.query(
      `INSERT INTO alerts (alert_id, source, rule, subject, kiosk_id, severity, message, raised_at, cleared_at) VALUES
         ('a1', 'kiosk', 'tank_low', 'AN-K1', 'AN-K1', 'warning', 'Tank low: 8 %', '2026-09-05T07:00:00Z', '2026-09-05T09:00:00Z'),
         ('a2', 'kiosk', 'uv_fault', 'AN-K1', 'AN-K1', 'critical', 'UV lamp fault', '2026-09-20T07:00:00Z', NULL),
         ('a3', 'cloud', 'kiosk_offline', 'AN-K2', 'AN-K2', 'critical', 'Kiosk offline for 2 h', '2026-09-21T07:00:00Z', NULL),
         ('a4', 'kiosk', 'tank_low', 'AN-K1', 'AN-K1', 'warning', 'Tank low in October', '2026-10-02T07:00:00Z', NULL)`,
    );
  });
  afterAll(() => stopTestCloud(cloud, backend));

  const fleet = (range: Partial<AnalyticsRange> = {}) => analyse(cloud.db, { ...SEPTEMBER, ...range });

  it('counts litres, dispenses and customers per day of the fleet time zone, once each', async () => {
    const month = await fleet();
    expect(month.totals).toEqual({ dispenses: 5, volume_ml: 67_000, active_customers: 3 });
    expect(month.litres_per_day).toHaveLength(30);
    expect(month.litres_per_day[0]).toEqual({ day: '2026-09-01', dispenses: 2, volume_ml: 25_000 });
    expect(month.litres_per_day.find((d) => d.day === '2026-09-15')).toEqual({
      day: '2026-09-15',
      dispenses: 1,
      volume_ml: 10_000,
    });
    expect(month.litres_per_hour).toHaveLength(30 * 24);
    expect(month.litres_per_hour?.[0]).toEqual({ hour: '2026-08-31T21:00:00Z', dispenses: 1, volume_ml: 20_000 });
    expect(month.top_customers).toEqual([
      { account_id: account.brian, name: 'brian', dispenses: 2, volume_ml: 40_000 },
      { account_id: account.amina, name: 'amina', dispenses: 2, volume_ml: 25_000 },
      { account_id: account.chloe, name: 'chloe', dispenses: 1, volume_ml: 2_000 },
    ]);

    const k1 = await fleet({ kioskId: 'AN-K1' });
    expect(k1.totals).toEqual({ dispenses: 3, volume_ml: 35_000, active_customers: 2 });
  });

  it('reads ranges that cut months as well as whole ones', async () => {
    // 15 Sep to 1 Oct: half of September from the daily rollup, nothing whole.
    const cut = await fleet({ from: '2026-09-15', to: '2026-10-01' });
    expect(cut.totals).toEqual({ dispenses: 3, volume_ml: 41_000, active_customers: 2 });
    expect(cut.top_customers.map((c) => c.name)).toEqual(['brian', 'chloe']);
    // 31 August to 1 October: September whole plus a day each side.
    const wide = await fleet({ from: '2026-08-31', to: '2026-10-01' });
    expect(wide.totals).toEqual({ dispenses: 6, volume_ml: 68_000, active_customers: 3 });
    // Hours for at most 31 days.
    expect(wide.litres_per_hour).toBeNull();
  });

  it('sums revenue per provider and currency, never across currencies, and at a kiosk its payments', async () => {
    const month = await fleet();
    expect(month.revenue).toEqual([
      { provider: 'mpesa', currency: 'KES', payments: 2, amount_minor: 75_050 },
      { provider: 'mtn', currency: 'UGX', payments: 1, amount_minor: 1_000 },
    ]);
    // 23:59 on 31 August EAT belongs to August; 08:00 on 1 September EAT to September.
    expect(month.revenue_per_day[0]).toEqual({
      day: '2026-09-01',
      provider: 'mpesa',
      currency: 'KES',
      payments: 2,
      amount_minor: 75_050,
    });
    expect((await fleet({ kioskId: 'AN-K1' })).revenue).toEqual([
      { provider: 'mtn', currency: 'UGX', payments: 1, amount_minor: 1_000 },
    ]);
  });

  it('gives the authorisation success rate, top denial reasons and uptime', async () => {
    const month = await fleet();
    expect(month.authorisations).toEqual({
      approved: 100,
      denied: 10,
      success_rate_bp: 9091,
      denials: [
        { code: 'WRONG_PIN', count: 7 },
        { code: 'INSUFFICIENT_BALANCE', count: 3 },
      ],
    });
    expect(month.uptime?.kiosks).toEqual([
      { kiosk_id: 'AN-K1', hours: 720, contact_hours: 240, uptime_bp: 3333 },
      { kiosk_id: 'AN-K2', hours: 720, contact_hours: 360, uptime_bp: 5000 },
    ]);
    expect(month.uptime).toMatchObject({ hours: 1440, contact_hours: 600, uptime_bp: 4167 });
  });

  it("writes a kiosk's monthly report as a PDF whose text holds its figures, chart and alerts", async () => {
    const pdf = await monthlyReportPdf(cloud.db, { month: '2026-09', kioskId: 'AN-K1', timeZone: ZONE });
    const dir = await mkdtemp(join(tmpdir(), 'report-'));
    const file = join(dir, 'report.pdf');
    await writeFile(file, pdf);
    const text = await run('pdftotext', ['-layout', file, '-']);
    const lines = text.split('\n').map((line) => line.replace(/\s+/g, ' ').trim());
    expect(lines).toContain('Kiosk AN-K1 · September 2026');
    expect(lines).toContain('Litres dispensed 35 L');
    expect(lines).toContain('Dispenses 3');
    expect(lines).toContain('Customers served 2');
    expect(lines).toContain('Authorisation success rate 90.9 %'); // 90 of 99 at AN-K1
    expect(lines).toContain('Uptime 33.3 %');
    expect(lines).toContain('MTN MoMo UGX 1 UGX 1,000');
    expect(lines).toContain('WRONG_PIN Wrong PIN 6 66.7 %');
    expect(lines).toContain('2 raised: 1 critical, 1 warning, 0 info.');
    expect(text).toContain('UV lamp fault');
    expect(text).not.toContain('Tank low in October');
    // The chart: a bar per day with water (vector rectangles), labelled by day of month.
    expect(lines.some((line) => /^1 6 11 16 21 26 30$/.test(line))).toBe(true);

    if (backend.name === 'pglite') {
      // The first page as a picture, for the README (artifacts/ is the run's output, not committed).
      await mkdir(ARTIFACTS, { recursive: true });
      await writeFile(join(ARTIFACTS, 'monthly-report.pdf'), pdf);
      await run('pdftoppm', ['-png', '-r', '80', '-f', '1', '-singlefile', file, join(ARTIFACTS, 'monthly-report')]);
    }
    await rm(dir, { recursive: true });
  });

  it("writes the fleet's monthly report with revenue in each currency", async () => {
    const pdf = await monthlyReportPdf(cloud.db, { month: '2026-09', timeZone: ZONE });
    const text = (await run('pdftotext', ['-layout', '-', '-'], pdf)).replace(/[ \t]+/g, ' ');
    expect(text).toContain('Fleet of 2 kiosks · September 2026');
    expect(text).toContain('M-Pesa KES 2 KES 750.50');
    expect(text).toContain('MTN MoMo UGX 1 UGX 1,000');
    expect(text).toContain('3 raised: 2 critical, 1 warning, 0 info.');
  });

  it('serves the figures to finance and field staff, refuses other roles and strangers, and documents the routes', async () => {
    const month = await finance.json<Analytics>('GET', '/analytics?from=2026-09-01&to=2026-09-30&kiosk=AN-K1&top=1');
    expect(month.totals).toEqual({ dispenses: 3, volume_ml: 35_000, active_customers: 2 });
    expect(month.top_customers).toHaveLength(1);
    expect((await field.request('GET', '/analytics?from=2026-09-01&to=2026-09-30')).status).toBe(200);
    expect((await support.request('GET', '/analytics?from=2026-09-01&to=2026-09-30')).status).toBe(403);
    expect((await support.request('GET', '/reports/monthly.pdf?month=2026-09')).status).toBe(403);
    const stranger = await fetch(`${cloud.url}/console/api/analytics?from=2026-09-01&to=2026-09-30`);
    expect(stranger.status).toBe(401);
    const refused = await finance.request('GET', '/analytics?from=2026-09-30&to=2026-09-01');
    expect([refused.status, ((await refused.json()) as { code: string }).code]).toEqual([400, 'INVALID_RANGE']);
    expect((await finance.request('GET', '/analytics?from=2026-09-01&to=2026-09-30&kiosk=NOPE')).status).toBe(404);
    expect((await finance.request('GET', '/reports/monthly.pdf?month=2026-13')).status).toBe(400);

    const openapi = (await (await fetch(`${cloud.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/console/api/analytics',
        '/console/api/analytics/{table}.csv',
        '/console/api/reports/monthly.pdf',
      ]),
    );
  });

  it('gives each table as CSV and the monthly PDF over HTTP', async () => {
    const csv = await finance.request('GET', '/analytics/revenue-per-day.csv?from=2026-09-01&to=2026-09-30');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toContain('revenue-per-day-fleet-2026-09-01-2026-09-30.csv');
    expect((await csv.text()).split('\r\n')).toEqual([
      'day,provider,currency,payments,amount_minor',
      '2026-09-01,mpesa,KES,2,75050',
      '2026-09-02,mtn,UGX,1,1000',
      '',
    ]);
    const uptime = await field.request('GET', '/analytics/uptime.csv?from=2026-09-01&to=2026-09-30&kiosk=AN-K2');
    expect(await uptime.text()).toBe('kiosk_id,hours,contact_hours,uptime_bp\r\nAN-K2,720,360,5000\r\n');
    expect((await finance.request('GET', '/analytics/nothing.csv?from=2026-09-01&to=2026-09-30')).status).toBe(400);

    const pdf = await field.request('GET', '/reports/monthly.pdf?month=2026-09&kiosk=AN-K2');
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const text = await run('pdftotext', ['-', '-'], Buffer.from(await pdf.arrayBuffer()));
    expect(text).toContain('Kiosk AN-K2 · September 2026');
  });

  it('refuses an unknown kiosk and a reversed range, with stable codes', async () => {
    await expect(fleet({ kioskId: 'NOPE' })).rejects.toMatchObject({ code: 'UNKNOWN_KIOSK' });
    await expect(fleet({ from: '2026-09-02', to: '2026-09-01' })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
    await expect(fleet({ from: '2025-01-01', to: '2026-09-01' })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
  });

  it('rebuilds the daily and monthly rollups when the fleet moves to another time zone', async () => {
    // In UTC, amina's 00:xx EAT dispense on 1 September falls on 31 August.
    expect(await setAnalyticsTimeZone(cloud.db, 'UTC')).toBe(true);
    const utc = await analyse(cloud.db, { ...SEPTEMBER, timeZone: 'UTC' });
    expect(utc.totals).toEqual({ dispenses: 4, volume_ml: 47_000, active_customers: 3 });
    expect(utc.top_customers.find((c) => c.name === 'amina')).toMatchObject({ volume_ml: 5_000 });
    expect(await setAnalyticsTimeZone(cloud.db, ZONE)).toBe(true);
    expect(await setAnalyticsTimeZone(cloud.db, ZONE)).toBe(false);
    expect((await fleet()).totals.active_customers).toBe(3);
  });
});
