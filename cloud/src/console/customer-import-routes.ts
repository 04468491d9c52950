import * as z from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { isSupportedCountry, type CountryCode } from '@tusafishe/protocol/phone';
import type { Db } from '../store/db.js';
import { ErrorBody } from './api-schemas.js';
import { signedInOperator } from './console-guard.js';
import { CSV_COLUMNS, importCustomersCsv, MAX_CSV_CUSTOMERS } from './customer-csv-import.js';
import { CustomerImportReport } from './customer-schemas.js';

export interface CustomerImportDeps {
  db: Db;
  /** Largest opening balance (mL) customer_service may give a line; admin has none. */
  correctionCapMl: number;
}

const MAX_CSV_BYTES = 1024 * 1024;

/** §4 CSV import of customers, with a dry run and a report (the Appwrite import's checks and report). */
export const customerImportRoutes: FastifyPluginAsyncZod<CustomerImportDeps> = async (app, deps) => {
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MAX_CSV_BYTES }, (_request, body, done) =>
    done(null, body),
  );
  app.post(
    '/customers/import',
    {
      config: { roles: ['customer_service'], stateChangeBody: 'text/csv' },
      bodyLimit: MAX_CSV_BYTES,
      schema: {
        tags: ['customers'],
        summary: `Import customers from CSV (text/csv, ≤ 1 MB, ≤ ${MAX_CSV_CUSTOMERS} lines; columns ${CSV_COLUMNS.join(', ')}); dry_run (default true) changes nothing`,
        consumes: ['text/csv'],
        body: z
          .string()
          .describe(`a header row naming the columns (${CSV_COLUMNS.join(', ')}), then a customer a line`),
        querystring: z.object({
          dry_run: z
            .enum(['true', 'false'])
            .default('true')
            .transform((value) => value === 'true'),
          region: z
            .string()
            .regex(/^[A-Z]{2}$/)
            .refine(isSupportedCountry, 'not a country code phone numbers know')
            .default('KE'),
        }),
        response: { 200: CustomerImportReport, 400: ErrorBody },
      },
    },
    async (request) => {
      const operator = signedInOperator(request);
      const report = await importCustomersCsv(deps.db, request.body, {
        operator: operator.username,
        dryRun: request.query.dry_run,
        region: request.query.region as CountryCode,
        capMl: operator.role === 'admin' ? null : deps.correctionCapMl,
      });
      return {
        summary: report.summary,
        lines: report.rows.map(({ source, ...row }) => ({ line: Number(source), ...row })),
      };
    },
  );
};
