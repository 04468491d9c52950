import * as z from 'zod';
import { CUSTOMER_STATUSES } from '@tusafishe/protocol';
import { SKIP_REASONS } from '../customers/customer-import.js';

/** Shapes of the customer-service API (`customer-routes.ts`); the console imports their types. */
const CustomerSummary = z.object({
  account_id: z.string(),
  phone: z.string(),
  name: z.string(),
  status: z.enum(CUSTOMER_STATUSES),
  balance_ml: z.number().int(),
  locked_until: z.number().int().nullable(),
});
export const CustomerSearchPage = z.object({
  customers: z.array(CustomerSummary),
  page: z.number().int(),
  has_more: z.boolean(),
});
export const CustomerDetail = CustomerSummary.extend({
  expires_at: z.number().int().nullable(),
  daily_limit_ml: z.number().int().nullable(),
  allowed_kiosks: z.array(z.string()).nullable(),
  language: z.enum(['en', 'sw']),
  usage_day: z.string().nullable(),
  used_today_ml: z.number().int(),
  version: z.number().int(),
  pin_set: z.boolean(),
  pin_failures: z.number().int(),
});
const CustomerEvent = z.object({
  event_id: z.string(),
  type: z.string(),
  amount_ml: z.number().int(),
  kiosk_id: z.string().nullable(),
  dispenser_id: z.string().nullable(),
  occurred_at: z.number().int(),
  details: z.record(z.string(), z.unknown()).nullable(),
  reversed_by: z.string().nullable(),
});
export const CustomerEventsPage = z.object({
  events: z.array(CustomerEvent),
  page: z.number().int(),
  has_more: z.boolean(),
});
export const Reversal = z.object({ event_id: z.string(), amount_ml: z.number().int(), balance_ml: z.number().int() });

/** The CSV import's report (`customer-csv-import.ts`): a summary and each data line's outcome. */
export const CustomerImportReport = z.object({
  summary: z.object({
    dry_run: z.boolean(),
    read: z.number().int(),
    imported: z.number().int(),
    already_imported: z.number().int(),
    skipped: z.number().int(),
    skipped_by_reason: z.partialRecord(z.enum(SKIP_REASONS), z.number().int()),
    new_account_ids: z.number().int(),
    opening_balance_ml: z.number().int(),
  }),
  lines: z.array(
    z.object({
      line: z.number().int(),
      outcome: z.enum(['imported', 'already_imported', 'skipped']),
      phone: z.string().optional(),
      account_id: z.string().optional(),
      account_id_note: z.string().optional(),
      opening_balance_ml: z.number().int().optional(),
      reason: z.enum(SKIP_REASONS).optional(),
      message: z.string().optional(),
    }),
  ),
});
