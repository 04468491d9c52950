import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { KioskId } from '@tusafishe/protocol';
import { toCsv } from '../http/csv.js';
import { monthlyReportPdf } from '../reports/monthly-report.js';
import type { Db } from '../store/db.js';
import { analyse } from './analytics.js';
import { Analytics } from './analytics-schemas.js';

export interface AnalyticsRoutesOptions {
  db: Db;
  /** The fleet's day (IANA zone): ranges and months are days of it. */
  usageTimeZone: string;
}

/** Finance and field staff read figures; admin may too (the guard always lets admin through). */
const READERS = { roles: ['finance', 'field'] as const };

const RangeQuery = z.object({
  from: z.iso.date().describe('first day, in the fleet time zone'),
  to: z.iso.date().describe('last day, included'),
  kiosk: z.optional(KioskId).describe('one kiosk; the whole fleet when absent'),
});

/** The tables of an analysis as CSV: their columns, and where they are in the analysis. */
function csvTable<Row extends object>(columns: (keyof Row & string)[], rows: (a: Analytics) => Row[]) {
  return (a: Analytics): string => toCsv(columns, rows(a));
}
const CSV_TABLES = {
  'litres-per-day': csvTable(['day', 'dispenses', 'volume_ml'], (a) => a.litres_per_day),
  'litres-per-hour': csvTable(['hour', 'dispenses', 'volume_ml'], (a) => a.litres_per_hour ?? []),
  'revenue-per-day': csvTable(['day', 'provider', 'currency', 'payments', 'amount_minor'], (a) => a.revenue_per_day),
  'top-customers': csvTable(['account_id', 'name', 'dispenses', 'volume_ml'], (a) => a.top_customers),
  denials: csvTable(['code', 'count'], (a) => a.authorisations.denials),
  uptime: csvTable(['kiosk_id', 'hours', 'contact_hours', 'uptime_bp'], (a) => a.uptime.kiosks),
};
const CSV_TABLE_NAMES = Object.keys(CSV_TABLES) as [keyof typeof CSV_TABLES, ...(keyof typeof CSV_TABLES)[]];

/**
 * `GET /console/api/analytics` (every figure of a range, for the console's charts),
 * `GET /console/api/analytics/:table.csv` (one table as CSV) and
 * `GET /console/api/reports/monthly.pdf` (the month's report).
 */
export const analyticsRoutes: FastifyPluginAsyncZod<AnalyticsRoutesOptions> = async (app, { db, usageTimeZone }) => {
  const range = (query: z.infer<typeof RangeQuery>) => ({ ...query, kioskId: query.kiosk, timeZone: usageTimeZone });

  app.get(
    '/analytics',
    {
      config: READERS,
      schema: {
        summary: 'Litres, revenue, customers, authorisations and uptime of a kiosk or the fleet over a range',
        tags: ['console analytics'],
        querystring: RangeQuery.extend({ top: z.coerce.number().int().min(1).max(100).default(10) }),
        response: { 200: Analytics },
      },
    },
    async (request) => analyse(db, range(request.query), request.query.top),
  );

  app.get(
    '/analytics/:table.csv',
    {
      config: READERS,
      schema: {
        summary: 'One table of the analytics as CSV (top customers: the first 100)',
        tags: ['console analytics'],
        params: z.object({ table: z.enum(CSV_TABLE_NAMES) }),
        querystring: RangeQuery,
        produces: ['text/csv'],
      },
    },
    async (request, reply) => {
      const analytics = await analyse(db, range(request.query), 100);
      const name = `${request.params.table}-${request.query.kiosk ?? 'fleet'}-${request.query.from}-${request.query.to}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(CSV_TABLES[request.params.table](analytics));
    },
  );

  app.get(
    '/reports/monthly.pdf',
    {
      config: READERS,
      schema: {
        summary: "A kiosk's or the fleet's monthly report (PDF)",
        tags: ['console reports'],
        querystring: z.object({
          month: z
            .string()
            .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM')
            .describe('YYYY-MM'),
          kiosk: z.optional(KioskId).describe('one kiosk; the whole fleet when absent'),
        }),
        produces: ['application/pdf'],
      },
    },
    async (request, reply) => {
      const { month, kiosk } = request.query;
      const pdf = await monthlyReportPdf(db, { month, kioskId: kiosk, timeZone: usageTimeZone });
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="tusafishe-${kiosk ?? 'fleet'}-${month}.pdf"`)
        .send(pdf);
    },
  );
};
