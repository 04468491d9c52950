import * as z from 'zod';
import { CUSTOMER_STATUSES } from '@tusafishe/protocol';

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
