import { devSmsWriter } from '@tusafishe/protocol/dev-sms';
import * as z from 'zod';
import { en } from 'zod/locales';
import { startCloud } from './cloud.js';
import { CloudEnv, cloudOptionsFromEnv, readSecretFiles } from './config.js';
import { seedDemo } from './demo/seed-demo.js';
import type { DevelopmentSmsTap } from './sms/sender.js';

/** Process entry: `npx tsx cloud/src/main.ts`, configured by environment (see cloud/README.md). */
z.config(en());
let parsed: ReturnType<typeof CloudEnv.safeParse>;
try {
  parsed = CloudEnv.safeParse(readSecretFiles(process.env));
} catch (error) {
  console.error(`cloud: refusing to start, bad configuration: ${(error as Error).message}`);
  process.exit(1);
}
if (!parsed.success) {
  console.error(`cloud: refusing to start, bad configuration:\n${z.prettifyError(parsed.error)}`);
  process.exit(1);
}
const env = parsed.data;
const cloud = await startCloud({ ...cloudOptionsFromEnv(env), ...smsTap(env.DEV_SMS_FD) });
const log = cloud.app.log;
log.info({ url: cloud.url, database: cloud.db.kind }, 'cloud listening');
if (cloud.simulators) {
  log.info(
    {
      mtn: `${cloud.simulators.mtn.url}/simulator`,
      airtel: `${cloud.simulators.airtel.url}/simulator`,
      mpesa: `${cloud.simulators.mpesa.url}/simulator`,
    },
    'payment simulators: approve or decline pending payments here',
  );
}
if (env.DEMO_SEED === 'on') {
  const seeded = await seedDemo(cloud.db, { kioskId: env.DEMO_KIOSK_ID, kioskSecret: env.DEMO_KIOSK_SECRET });
  log.info(
    { kioskId: seeded.kioskId, customers: seeded.customers.map((c) => ({ phone: c.phone, accountId: c.accountId })) },
    'demo data seeded',
  );
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'cloud stopping');
    cloud.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'cloud did not stop cleanly');
        process.exit(1);
      },
    );
  });
}

/**
 * DEV_SMS_FD (development only): each message the development SMS adapter "sends", as a JSON line
 * on that descriptor, for `npm start` to print as the demo's phone (every message is in the outbox table too).
 */
function smsTap(fd: number | undefined): { devSmsTap?: DevelopmentSmsTap } {
  return fd === undefined ? {} : { devSmsTap: devSmsWriter(fd) };
}
