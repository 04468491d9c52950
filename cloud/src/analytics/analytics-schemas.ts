import * as z from 'zod';

/**
 * Shapes of the console's analytics: the routes validate and document with them (OpenAPI), the
 * console app imports the inferred types. Volumes in mL, money in minor units, rates in basis points.
 */
const Count = z.int().min(0);
const Volume = { dispenses: Count, volume_ml: Count };
const Rate = z.int().min(0).max(10_000).nullable().describe('basis points: 9850 = 98.5 %; null with nothing to count');

const DayVolume = z.object({ day: z.iso.date(), ...Volume });
const HourVolume = z.object({ hour: z.string().describe('start of the UTC hour, ISO 8601'), ...Volume });
const RevenueRow = z.object({ provider: z.string(), currency: z.string(), payments: Count, amount_minor: Count });
export type RevenueRow = z.infer<typeof RevenueRow>;
const DayRevenue = RevenueRow.extend({ day: z.iso.date() });
export type DayRevenue = z.infer<typeof DayRevenue>;
const TopCustomer = z.object({ account_id: z.string(), name: z.string(), ...Volume });
const Authorisations = z.object({
  approved: Count,
  denied: Count,
  success_rate_bp: Rate,
  denials: z.array(z.object({ code: z.string(), count: Count })).describe('most frequent first'),
});
export type Authorisations = z.infer<typeof Authorisations>;
const KioskUptime = z.object({
  kiosk_id: z.string(),
  hours: Count.describe('hours of the range the kiosk existed, up to the current hour'),
  contact_hours: Count.describe('of those, hours in which it reached the cloud'),
  uptime_bp: Rate,
});
const Uptime = KioskUptime.omit({ kiosk_id: true }).extend({ kiosks: z.array(KioskUptime) });
export type Uptime = z.infer<typeof Uptime>;

export const Analytics = z.object({
  from: z.iso.date(),
  to: z.iso.date(),
  kiosk_id: z.string().nullable().describe('null: the whole fleet'),
  time_zone: z.string().describe("the fleet's day"),
  totals: z.object({ ...Volume, active_customers: Count }),
  litres_per_day: z.array(DayVolume),
  litres_per_hour: z.array(HourVolume).nullable().describe('null for a range over 31 days'),
  revenue_per_day: z.array(DayRevenue).describe('successful payments by the day they settled'),
  revenue: z.array(RevenueRow).describe('per provider and currency over the range'),
  top_customers: z.array(TopCustomer),
  authorisations: Authorisations.describe('from the hourly counts gateways send with their sync'),
  uptime: Uptime,
});
export type Analytics = z.infer<typeof Analytics>;
