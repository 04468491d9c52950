/**
 * `@tusafishe/cloud/console-api`: the console API's shapes for the console app (types only, so
 * no zod reaches the browser bundle), and the few rules its forms check before sending. A
 * section adds its own schemas' types here.
 */
import type * as z from 'zod';
import type { Me } from './api-schemas.js';

export type { OperatorRole } from './roles.js';
export type ConsoleMe = z.infer<typeof Me>;
export { MIN_PASSWORD_LENGTH } from './password-rule.js';

// Kiosks, alerts and fleet firmware (cloud/src/fleet/console-schemas.ts).
import type {
  AlertView,
  FleetFirmwareView,
  KioskDetailView,
  KioskSummary,
  RolloutViewSchema,
} from '../fleet/console-schemas.js';
export type ConsoleKiosk = z.infer<typeof KioskSummary>;
export type ConsoleKioskDetail = z.infer<typeof KioskDetailView>;
export type ConsoleAlert = z.infer<typeof AlertView>;
export type ConsoleFleetFirmware = z.infer<typeof FleetFirmwareView>;
export type ConsoleRollout = z.infer<typeof RolloutViewSchema>;

import type {
  CustomerDetail,
  CustomerEventsPage,
  CustomerImportReport,
  CustomerSearchPage,
  Reversal,
} from './customer-schemas.js';
import type { OperatorView } from './operator-routes.js';

export type CustomerSearchAnswer = z.infer<typeof CustomerSearchPage>;
export type CustomerDetailAnswer = z.infer<typeof CustomerDetail>;
export type CustomerEventsAnswer = z.infer<typeof CustomerEventsPage>;
export type ReversalAnswer = z.infer<typeof Reversal>;
export type CustomerImportAnswer = z.infer<typeof CustomerImportReport>;
export type OperatorListing = z.infer<typeof OperatorView>;

// Analytics (cloud/src/analytics/analytics-schemas.ts).
export type { Analytics as ConsoleAnalytics } from '../analytics/analytics-schemas.js';
