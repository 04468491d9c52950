import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, type CustomerRecord, type LedgerEvent } from '@tusafishe/protocol';
import type { Registry } from 'prom-client';
import { afterEach, expect, vi } from 'vitest';
import { createLogger } from '../src/logger.js';
import { Settings } from '../src/settings.js';
import { Store } from '../src/store/store.js';
import { startFakeKioskCloud, type FakeKioskCloud, type FakeKioskCloudOptions } from '../src/sync/fake-kiosk-cloud.js';
import { startSync, type SyncWorker } from '../src/sync/sync.js';

/** What the sync worker's tests share: in src/ (the unit lane) and in test/ (the refetch at size). */
export const KIOSK = 'K1';
export const SECRET = 'kiosk-secret-123';
export const logger = createLogger({ level: 'silent' });

export function customer(n: number, balance = 10_000): Omit<CustomerRecord, 'version'> {
  return {
    account_id: `AQP${String(n).padStart(6, '0')}`,
    phone: `+2547${String(n).padStart(8, '0')}`,
    name: `Customer ${n}`,
    pin_hash: '$scrypt$ln=10,r=8,p=1$c2FsdA$a2V5',
    status: 'active',
    expires_at: null,
    daily_limit_ml: null,
    allowed_kiosks: null,
    balance_ml: balance,
    locked_until: null,
  };
}

export function dispense(accountId: string, ml: number, kioskId = KIOSK): LedgerEvent {
  const id = newId();
  return {
    event_id: id,
    type: 'dispense',
    account_id: accountId,
    amount_ml: -ml,
    kiosk_id: kioskId,
    dispenser_id: 'D1',
    source_id: id,
    occurred_at: Date.now(),
  };
}

/** A fake cloud, stores and workers for one test file, closed after each test. */
export function syncHarness() {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function cloud(options?: FakeKioskCloudOptions): Promise<FakeKioskCloud> {
    const fake = await startFakeKioskCloud(KIOSK, SECRET, options);
    cleanups.push(() => fake.close());
    return fake;
  }

  function openStore(dir?: string): { store: Store; dir: string } {
    const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'sync-worker-'));
    if (!dir) cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = Store.open(dataDir);
    cleanups.push(() => store.close());
    return { store, dir: dataDir };
  }

  function start(
    store: Store,
    cloudUrl: string,
    extra: Record<string, string> = {},
    registry?: Registry,
    settings: Partial<Settings> = {},
  ): SyncWorker {
    const env = { CLOUD_URL: cloudUrl, KIOSK_ID: KIOSK, KIOSK_SECRET: SECRET, SYNC_PAGE_SIZE: '50', ...extra };
    const worker = startSync({
      store,
      env,
      settings: Settings.parse({ offlineAfterMs: 6_000, ...settings }),
      logger,
      backoff: { initialMs: 20, maxMs: 200 },
      ...(registry && { registry }),
    });
    cleanups.push(() => worker.close());
    return worker;
  }

  return { cloud, openStore, start };
}

/** vi.waitFor for a value that is set (not undefined or false); generous for a loaded machine. */
export const until = <T>(probe: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> =>
  vi.waitFor(
    () => {
      const value = probe();
      expect(value !== undefined && value !== false, what).toBe(true);
      return value as T;
    },
    { timeout: Math.max(timeoutMs, 30_000), interval: 20 },
  );
