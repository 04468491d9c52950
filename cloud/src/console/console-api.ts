import type { FastifyPluginAsync } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { adminRoutes } from '../admin/routes.js';
import { analyticsRoutes } from '../analytics/routes.js';
import type { PaymentService } from '../payments/payments.js';
import type { SmsOutbox } from '../sms/sender.js';
import { fleetConsoleRoutes } from '../fleet/console-routes.js';
import type { FleetMonitoring } from '../fleet/fleet-monitoring.js';
import type { Db } from '../store/db.js';
import { guardConsoleRoutes } from './console-guard.js';
import { customerImportRoutes } from './customer-import-routes.js';
import { customerRoutes } from './customer-routes.js';
import { operatorRoutes } from './operator-routes.js';
import { sessionRoutes } from './session-routes.js';
import { tokenRoutes } from './token-routes.js';

/** What the console's routes work with; a section that needs more adds it here and in cloud.ts. */
export interface ConsoleDeps {
  db: Db;
  payments: PaymentService;
  sms: SmsOutbox;
  /** The fleet's day (IANA zone) for dates. */
  usageTimeZone: string;
  /** `Secure` session cookies (the cloud is reached over HTTPS). */
  secureCookie: boolean;
  /** Kiosks, alerts, the live feed, fleet firmware. */
  fleet: FleetMonitoring;
  /** Shown in SMS (the PIN reset code's instructions). */
  ussdCode: string;
  /** Largest correction (reversal, adjustment) customer_service may make, mL; admin has none. */
  correctionCapMl: number;
}

/**
 * The operations console's API, registered at `/console/api`: every route inside is guarded
 * (session, origin, JSON, role — `console-guard.ts`). A section registers its routes here.
 */
export const consoleApi: FastifyPluginAsync<ConsoleDeps> = async (app, deps) => {
  await app.register(fastifyCookie);
  guardConsoleRoutes(app, deps.db);
  await app.register(sessionRoutes, { db: deps.db, secureCookie: deps.secureCookie });
  await app.register(adminRoutes, {
    db: deps.db,
    payments: deps.payments,
    usageTimeZone: deps.usageTimeZone,
    correctionCapMl: deps.correctionCapMl,
  });
  await app.register(operatorRoutes, { db: deps.db });
  await app.register(customerRoutes, {
    db: deps.db,
    sms: deps.sms,
    ussdCode: deps.ussdCode,
    correctionCapMl: deps.correctionCapMl,
  });
  await app.register(customerImportRoutes, { db: deps.db, correctionCapMl: deps.correctionCapMl });
  await app.register(analyticsRoutes, { db: deps.db, usageTimeZone: deps.usageTimeZone });
  await app.register(tokenRoutes, { db: deps.db });
  await app.register(fleetConsoleRoutes, { fleet: deps.fleet });
};
