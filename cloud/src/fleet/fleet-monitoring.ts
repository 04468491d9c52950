import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { LedgerEvent } from '@tusafishe/protocol';
import type { KioskAuthenticator } from '../kiosks/kiosks.js';
import type { SmsOutbox } from '../sms/sender.js';
import type { Db } from '../store/db.js';
import type { ExclusiveJobs } from '../jobs/exclusive-jobs.js';
import { AlertRules } from './alert-rules.js';
import { recordKioskAlerts } from './alerts.js';
import { KioskContacts } from './contacts.js';
import { FleetFirmware } from './firmware.js';
import { fleetKioskRoutes } from './kiosk-routes.js';
import { kioskDetail, listKiosks, type KioskDetail, type KioskSummary } from './kiosk-views.js';
import { LiveFeed } from './live.js';
import { DEFAULT_FLEET_SETTINGS, type FleetSettings } from './settings.js';

export interface FleetMonitoring {
  db: Db;
  settings: FleetSettings;
  usageTimeZone: string;
  contacts: KioskContacts;
  firmware: FleetFirmware;
  live: LiveFeed;
  kiosks(): Promise<KioskSummary[]>;
  kiosk(kioskId: string): Promise<KioskDetail>;
  /** One tick of the cloud's alert rules now (tests, or with the job off); false when another instance holds the job. */
  runAlertRules(): Promise<boolean>;
  /** The kiosk API's hook after a batch merged: kiosk alerts (the live feed wakes on its own triggers). */
  onMerged(kioskId: string, events: readonly LedgerEvent[]): Promise<void>;
  registerKioskRoutes(app: FastifyInstance, authenticator: KioskAuthenticator): Promise<void>;
  close(): Promise<void>;
}

/** Composes the operations console's fleet side (cloud README, "Operations console: kiosks and alerts"). */
export async function startFleetMonitoring(input: {
  db: Db;
  log: FastifyBaseLogger;
  sms: SmsOutbox;
  settings: Partial<FleetSettings>;
  usageTimeZone: string;
  /** `cloud.jobs`: the alert rules run as its `alert-rules` job. */
  jobs: ExclusiveJobs;
}): Promise<FleetMonitoring> {
  const { db, log, sms } = input;
  const settings = { ...DEFAULT_FLEET_SETTINGS, ...input.settings };
  const notifier = { onCallPhones: settings.onCallPhones };
  const live = await LiveFeed.open(db, log, settings.liveSafetyPollMs);
  const firmware = new FleetFirmware(db, settings.firmwarePublicKey);
  const contacts = new KioskContacts(db, settings.kioskOfflineAfterMs);
  const rules = new AlertRules({ db, settings, usageTimeZone: input.usageTimeZone, notifier }, input.jobs, () =>
    sms.nudge(),
  );
  return {
    db,
    settings,
    usageTimeZone: input.usageTimeZone,
    contacts,
    firmware,
    live,
    kiosks: () => listKiosks(db, settings.kioskOfflineAfterMs),
    kiosk: (kioskId) => kioskDetail(db, kioskId, settings.kioskOfflineAfterMs, input.usageTimeZone),
    runAlertRules: () => rules.runNow(),
    async onMerged(kioskId, events) {
      const changed = await recordKioskAlerts(db, kioskId, events, notifier);
      if (changed.some((alert) => alert.severity === 'critical')) sms.nudge();
    },
    registerKioskRoutes: (app, authenticator) => fleetKioskRoutes(app, { db, authenticator, contacts, firmware }),
    async close() {
      await contacts.settled();
      await live.close();
    },
  };
}
