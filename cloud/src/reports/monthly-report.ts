import PDFDocument from 'pdfkit';
import { DENIAL_REASONS, type DenialCode } from '@tusafishe/protocol';
import { analyse } from '../analytics/analytics.js';
import type { Analytics } from '../analytics/analytics-schemas.js';
import { toMajorString } from '../payments/tariff.js';
import type { Db } from '../store/db.js';

export interface MonthlyReportRequest {
  /** `YYYY-MM`, in the fleet's time zone. */
  month: string;
  /** One kiosk; the whole fleet when absent. */
  kioskId?: string | undefined;
  timeZone: string;
  /** Time printed in the footer. Default now. */
  generatedAt?: Date;
}

interface AlertRow {
  raised_at: string;
  kiosk_id: string | null;
  severity: string;
  message: string;
  cleared: boolean;
}

interface ReportData {
  request: MonthlyReportRequest;
  title: string;
  analytics: Analytics;
  alerts: { total: number; bySeverity: Record<string, number>; latest: AlertRow[] };
}

const PROVIDERS: Record<string, string> = { mtn: 'MTN MoMo', airtel: 'Airtel Money', mpesa: 'M-Pesa' };
const LISTED_ALERTS = 12;

/** The month's first and last day, `YYYY-MM-DD`. */
function monthRange(month: string): { from: string; to: string } {
  const [year, monthIndex] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(year, monthIndex, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

async function alertsOfMonth(db: Db, request: MonthlyReportRequest): Promise<ReportData['alerts']> {
  const { from, to } = monthRange(request.month);
  const rows = await db.query<AlertRow & { total: unknown }>(
    `SELECT to_char(raised_at AT TIME ZONE $3::text, 'YYYY-MM-DD HH24:MI') AS raised_at, kiosk_id, severity, message,
            cleared_at IS NOT NULL AS cleared, count(*) OVER (PARTITION BY severity) AS total
     FROM alerts
     WHERE raised_at >= ($1::date::timestamp AT TIME ZONE $3::text)
       AND raised_at < (($2::date + 1)::timestamp AT TIME ZONE $3::text)
       AND ($4::text IS NULL OR kiosk_id = $4)
     ORDER BY raised_at DESC`,
    [from, to, request.timeZone, request.kioskId ?? null],
  );
  const bySeverity: Record<string, number> = {};
  for (const row of rows) bySeverity[row.severity] = Number(row.total);
  return { total: rows.length, bySeverity, latest: rows.slice(0, LISTED_ALERTS) };
}

async function gather(db: Db, request: MonthlyReportRequest): Promise<ReportData> {
  const analytics = await analyse(db, {
    ...monthRange(request.month),
    kioskId: request.kioskId,
    timeZone: request.timeZone,
  });
  const monthName = new Date(`${request.month}-01T12:00:00Z`).toLocaleString('en-GB', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
  let subject = 'Fleet';
  if (request.kioskId) {
    const [kiosk] = await db.query<{ name: string }>('SELECT name FROM kiosks WHERE kiosk_id = $1', [request.kioskId]);
    subject =
      kiosk && kiosk.name !== request.kioskId ? `Kiosk ${request.kioskId} (${kiosk.name})` : `Kiosk ${request.kioskId}`;
  } else {
    const [count] = await db.query<{ kiosks: unknown }>('SELECT count(*) AS kiosks FROM kiosks');
    subject = `Fleet of ${Number(count?.kiosks).toLocaleString('en')} kiosks`;
  }
  return { request, title: `${subject} · ${monthName}`, analytics, alerts: await alertsOfMonth(db, request) };
}

const litres = (ml: number): string =>
  `${(Math.trunc(ml / 100) / 10).toLocaleString('en', { maximumFractionDigits: 1 })} L`;
const count = (n: number): string => n.toLocaleString('en');
const percent = (bp: number | null): string => (bp === null ? 'not reported' : `${(bp / 100).toFixed(1)} %`);
/** Minor units as "KES 1,234.50", from the exact decimal string (never through a float). */
const money = (minor: number, currency: string): string =>
  new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'code' })
    .format(toMajorString(minor, currency) as `${number}`)
    .replace(/\u00a0/g, ' ');

const INK = '#1f2a33';
const MUTED = '#5d6f7c';
const BAR = '#1d8fc7';
const LEFT = 50;
const WIDTH = 495;

function heading(doc: PDFKit.PDFDocument, text: string): void {
  doc.moveDown(0.8).font('Helvetica-Bold').fontSize(13).fillColor(INK).text(text, LEFT).moveDown(0.3);
}

/** Rows of cells at fixed column positions; the first row in bold. */
function table(doc: PDFKit.PDFDocument, columns: number[], rows: string[][], alignRight: boolean[] = []): void {
  rows.forEach((row, index) => {
    const y = doc.y;
    doc
      .font(index === 0 ? 'Helvetica-Bold' : 'Helvetica')
      .fontSize(10)
      .fillColor(index === 0 ? MUTED : INK);
    row.forEach((cell, column) => {
      const x = LEFT + columns[column]!;
      const width = (columns[column + 1] ?? WIDTH) - columns[column]! - 8;
      doc.text(cell, x, y, { width, align: alignRight[column] ? 'right' : 'left', lineBreak: false, ellipsis: true });
    });
    doc.x = LEFT;
    doc.y = y + 15;
  });
}

/** Litres per day as bars, drawn as vector paths (sharp at any zoom, a few hundred bytes). */
function dailyChart(doc: PDFKit.PDFDocument, days: Analytics['litres_per_day']): void {
  const top = doc.y + 4;
  const height = 130;
  const axis = 46;
  const max = Math.max(1, ...days.map((d) => d.volume_ml));
  const slot = (WIDTH - axis) / days.length;
  doc.font('Helvetica').fontSize(8).fillColor(MUTED);
  doc.text(litres(max), LEFT, top - 3, { width: axis - 6, align: 'right' });
  doc.text('0 L', LEFT, top + height - 6, { width: axis - 6, align: 'right' });
  doc
    .moveTo(LEFT + axis, top + height)
    .lineTo(LEFT + WIDTH, top + height)
    .lineWidth(0.5)
    .strokeColor('#b9c6cf')
    .stroke();
  days.forEach((day, i) => {
    const h = (day.volume_ml / max) * height;
    const x = LEFT + axis + i * slot;
    if (h > 0) doc.rect(x + 1, top + height - h, Math.max(1, slot - 2), h).fill(BAR);
    if (i % 5 === 0 || i === days.length - 1)
      doc
        .fillColor(MUTED)
        .text(String(Number(day.day.slice(8))), x - 4, top + height + 3, { width: slot + 8, align: 'center' });
  });
  doc.x = LEFT;
  doc.y = top + height + 16;
}

function render(data: ReportData): PDFKit.PDFDocument {
  const { analytics: a, alerts } = data;
  const doc = new PDFDocument({
    size: 'A4',
    margin: LEFT,
    info: { Title: `Tusafishe monthly report: ${data.title}`, Author: 'Tusafishe cloud' },
  });
  doc.font('Helvetica').fontSize(10).fillColor(MUTED).text('Tusafishe · monthly report');
  doc.font('Helvetica-Bold').fontSize(20).fillColor(INK).text(data.title);

  heading(doc, 'Summary');
  table(
    doc,
    [0, 250],
    [
      ['Figure', 'Month'],
      ['Litres dispensed', litres(a.totals.volume_ml)],
      ['Dispenses', count(a.totals.dispenses)],
      ['Customers served', count(a.totals.active_customers)],
      ['Authorisation success rate', percent(a.authorisations.success_rate_bp)],
      ['Uptime', percent(a.uptime.uptime_bp)],
    ],
  );

  heading(doc, 'Litres per day');
  dailyChart(doc, a.litres_per_day);

  heading(doc, 'Revenue per provider');
  if (a.revenue.length === 0) doc.font('Helvetica').fontSize(10).fillColor(MUTED).text('No payments this month.');
  else
    table(
      doc,
      [0, 160, 260, 340],
      [
        ['Provider', 'Currency', 'Payments', 'Amount'],
        ...a.revenue.map((r) => [
          PROVIDERS[r.provider] ?? r.provider,
          r.currency,
          count(r.payments),
          money(r.amount_minor, r.currency),
        ]),
      ],
      [false, false, true, true],
    );

  heading(doc, 'Top denial reasons');
  const denials = a.authorisations.denials.slice(0, 8);
  if (denials.length === 0) doc.font('Helvetica').fontSize(10).fillColor(MUTED).text('No denials this month.');
  else
    table(
      doc,
      [0, 170, 330, 410],
      [
        ['Reason', 'Keypad text', 'Denials', 'Share'],
        ...denials.map((d) => [
          d.code,
          DENIAL_REASONS[d.code as DenialCode] ?? '',
          count(d.count),
          percent(Math.round((d.count * 10_000) / Math.max(1, a.authorisations.denied))),
        ]),
      ],
      [false, false, true, true],
    );

  heading(doc, 'Alerts');
  const severities = ['critical', 'warning', 'info'].map((s) => `${alerts.bySeverity[s] ?? 0} ${s}`).join(', ');
  doc
    .font('Helvetica')
    .fontSize(10)
    .fillColor(INK)
    .text(`${count(alerts.total)} raised: ${severities}.`)
    .moveDown(0.3);
  if (alerts.latest.length > 0)
    table(
      doc,
      [0, 95, 160, 225],
      [
        ['Raised', 'Kiosk', 'Severity', 'Alert'],
        ...alerts.latest.map((row) => [
          row.raised_at,
          row.kiosk_id ?? '',
          row.severity,
          `${row.message}${row.cleared ? ' (cleared)' : ''}`,
        ]),
      ],
    );

  const generated = (data.request.generatedAt ?? new Date()).toISOString().slice(0, 16).replace('T', ' ');
  doc
    .moveDown(1)
    .font('Helvetica')
    .fontSize(8)
    .fillColor(MUTED)
    .text(
      `Days in ${a.time_zone}. Litres: metered dispenses. Revenue: successful payments by the day they settled` +
        `${a.kiosk_id ? ', of customers tied to this kiosk' : ''}. Generated ${generated} UTC.`,
      LEFT,
    );
  return doc;
}

/** The month's report as a PDF (pdfkit): figures, a chart of litres per day, revenue, denials, alerts. */
export async function monthlyReportPdf(db: Db, request: MonthlyReportRequest): Promise<Buffer> {
  const doc = render(await gather(db, request));
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
