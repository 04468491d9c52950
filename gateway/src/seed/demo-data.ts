import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { DEMO_CUSTOMERS, type CustomerRecord } from '@tusafishe/protocol';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { defaultDispenserConfig } from '../store/dispensers.js';
import type { Store } from '../store/store.js';

const DEMO_DISPENSER_IDS = ['D1', 'D2', 'D3', 'D4', 'D5', 'D6'] as const;
export const DEMO_CREDENTIALS_FILE = 'demo-credentials.json';
/** The technician `npm start` signs in with; a production gateway refuses this password. */
export const DEMO_TECHNICIAN = { username: 'technician', password: 'tusafishe-demo' } as const;

export const DemoCredentials = z.object({
  kiosk_id: z.string(),
  dispensers: z.array(z.object({ id: z.string(), username: z.string(), password: z.string() })),
});
export type DemoCredentials = z.infer<typeof DemoCredentials>;

export function isEmpty(store: Store): boolean {
  return store.customers.count() === 0 && store.dispensers.list().length === 0;
}

/** Seeds the demo customers and dispensers and writes their credentials to DATA_DIR. */
export async function seedDemoData(
  store: Store,
  kioskId: string,
  dataDir: string,
  pulsesPerLitre: number,
): Promise<DemoCredentials> {
  const customers: CustomerRecord[] = await Promise.all(
    DEMO_CUSTOMERS.map(async ({ pin, ...demo }) => ({
      ...demo,
      pin_hash: await hashSecret(pin),
      expires_at: null,
      daily_limit_ml: null,
      allowed_kiosks: null,
      locked_until: null,
      version: 0,
    })),
  );
  const dispensers = await Promise.all(
    DEMO_DISPENSER_IDS.map(async (id) => {
      const password = randomBytes(18).toString('base64url');
      return { id, username: id, password, hash: await hashSecret(password) };
    }),
  );
  store.transaction(() => {
    store.applyCustomerRecords(customers);
    for (const d of dispensers) store.dispensers.add(d.id, d.hash, defaultDispenserConfig(kioskId, pulsesPerLitre));
  });
  const credentials: DemoCredentials = {
    kiosk_id: kioskId,
    dispensers: dispensers.map(({ id, username, password }) => ({ id, username, password })),
  };
  await writeFile(join(dataDir, DEMO_CREDENTIALS_FILE), `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}

/** The credentials a previous seeding wrote, or null. */
export async function readDemoCredentials(dataDir: string): Promise<DemoCredentials | null> {
  try {
    return DemoCredentials.parse(JSON.parse(await readFile(join(dataDir, DEMO_CREDENTIALS_FILE), 'utf8')));
  } catch {
    return null;
  }
}
