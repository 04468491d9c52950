import * as z from 'zod';

/** Shapes of the console's kiosks, alerts and fleet firmware; the console app imports their types. */

const Severity = z.enum(['critical', 'warning', 'info']);
const Iso = z.string();

export const KioskParams = z.object({ kioskId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/) });
export const AlertParams = z.object({ alertId: z.string().min(1).max(64) });
export const RolloutParams = z.object({ rolloutId: z.uuid() });

export const KioskSummary = z.object({
  kiosk_id: z.string(),
  name: z.string(),
  last_contact_at: Iso.nullable(),
  online: z.boolean(),
  gateway_version: z.string().nullable(),
  events_waiting: z.number().int().nullable(),
  dispensers_online: z.number().int().nullable(),
  dispensers_total: z.number().int().nullable(),
  tank_level_pct: z.number().nullable(),
  water_quality: z.enum(['ok', 'unsafe', 'unknown']).nullable(),
  status_at: Iso.nullable(),
  active_alerts: z.number().int(),
  worst_severity: Severity.nullable(),
});
export const KioskList = z.object({ offline_after_s: z.number(), kiosks: z.array(KioskSummary) });

export const AlertView = z.object({
  alert_id: z.string(),
  source: z.enum(['kiosk', 'cloud']),
  rule: z.string(),
  subject: z.string(),
  kiosk_id: z.string().nullable(),
  severity: Severity,
  message: z.string(),
  details: z.record(z.string(), z.unknown()).nullable(),
  raised_at: Iso,
  cleared_at: Iso.nullable(),
  acknowledged_at: Iso.nullable(),
  acknowledged_by: z.string().nullable(),
});
export const AlertList = z.object({ alerts: z.array(AlertView) });
export const AckAnswer = z.object({ alert: AlertView });
export const AlertQuery = z.object({
  state: z.enum(['open', 'all']).default('open'),
  kiosk: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});

export const KioskDetailView = KioskSummary.extend({
  dispensers: z.array(
    z.object({
      dispenser_id: z.string(),
      online: z.boolean(),
      firmware: z.string().nullable(),
      last_seen_at: z.number().nullable(),
    }),
  ),
  alerts: z.array(AlertView),
  today: z.object({
    day: z.string(),
    litres_ml: z.number().int(),
    dispenses: z.number().int(),
    approvals: z.number().int(),
    denials: z.record(z.string(), z.number().int()),
  }),
});

export const FleetImage = z.object({
  version: z.string(),
  sha256: z.string(),
  size: z.number().int(),
  counter: z.number().int(),
  uploaded_by: z.string(),
  uploaded_at: Iso,
});

const FirmwareStep = z.object({ dispenser_id: z.string(), state: z.string(), message: z.string().nullable() });
export const RolloutViewSchema = z.object({
  rollout_id: z.string(),
  version: z.string(),
  sha256: z.string(),
  kiosk_ids: z.array(z.string()).nullable(),
  state: z.enum(['active', 'stopped']),
  started_by: z.string(),
  started_at: Iso,
  stopped_by: z.string().nullable(),
  stopped_at: Iso.nullable(),
  kiosks: z.array(
    z.object({
      kiosk_id: z.string(),
      state: z.string(),
      message: z.string().nullable(),
      dispensers: z.array(FirmwareStep),
      updated_at: Iso.nullable(),
    }),
  ),
});
export const FleetFirmwareView = z.object({ images: z.array(FleetImage), rollouts: z.array(RolloutViewSchema) });

export const RolloutStart = z.object({
  version: z.string().min(1).max(32),
  kiosks: z.union([
    z.literal('all'),
    z
      .array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/))
      .min(1)
      .max(1000),
  ]),
});
