import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { backends } from './backends.js';
import { dispenseEvent } from './kiosk-client.js';
import { seedDemo } from '../src/demo/seed-demo.js';
import { ingestKioskEvents } from '../src/kiosk-api/ingest-events.js';
import { balanceDrift } from '../src/ledger/ledger.js';
import { backupCloud, restoreCloud } from '../src/store/backup.js';
import type { Db } from '../src/store/db.js';
import { type DatabaseTarget, openCloudDatabase } from '../src/store/open-database.js';

const LIMITS = {
  usageTimeZone: 'Africa/Kampala',
  maxLockoutMs: 3_600_000,
  maxDispenseMl: 100_000,
  dailyVolumeAlertMl: 5_000_000,
};
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-cloud-backup-'));
  dirs.push(dir);
  return dir;
}

/** Everything a customer's money depends on, in a comparable form. */
async function moneyState(db: Db) {
  return {
    customers: await db.query('SELECT account_id, phone, pin_hash, balance_ml, version FROM customers ORDER BY 1'),
    ledger: await db.query('SELECT event_id, type, account_id, amount_ml, source_id FROM ledger_events ORDER BY 1'),
    kiosks: await db.query('SELECT kiosk_id, credential_hash FROM kiosks ORDER BY 1'),
  };
}

describe.each(backends())('cloud backup and restore on $name', { timeout: 180_000 }, (backend) => {
  afterAll(() => backend.cleanup());

  async function freshTarget(): Promise<DatabaseTarget> {
    const options = backend.fresh();
    return {
      databaseUrl: options.databaseUrl,
      databaseSchema: options.databaseSchema,
      databasePoolSize: options.databasePoolSize,
      dataDir: await tempDir(),
    };
  }

  async function wipe(target: DatabaseTarget): Promise<void> {
    if (target.databaseUrl) {
      const client = new pg.Client({ connectionString: target.databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA ${target.databaseSchema} CASCADE`);
      await client.end();
    } else {
      await rm(join(target.dataDir!, 'cloud-pg'), { recursive: true, force: true });
    }
  }

  it('backup → wipe → restore gives back every balance and ledger event, and the cloud carries on', async () => {
    const target = await freshTarget();
    let db = await openCloudDatabase(target);
    const seeded = await seedDemo(db, { kioskId: 'K1', kioskSecret: 'kiosk-secret-1' });
    const [first, second] = seeded.customers.map((c) => c.accountId);
    await ingestKioskEvents(
      db,
      'K1',
      [dispenseEvent('K1', first!, 5_000), dispenseEvent('K1', second!, 1_500)],
      LIMITS,
    );
    const before = await moneyState(db);
    await db.close();

    const file = join(await tempDir(), 'cloud.backup');
    const result = await backupCloud(target, file);
    expect(result.kind).toBe(backend.name === 'postgres' ? 'pg_dump' : 'pglite');
    expect(result.bytes).toBeGreaterThan(0);

    await wipe(target);
    await restoreCloud(target, file);

    db = await openCloudDatabase(target);
    try {
      expect(await moneyState(db)).toEqual(before);
      expect(await balanceDrift(db)).toEqual([]);
      // The version sequence came back too: the next change is newer than any a gateway has seen.
      const maxBefore = Math.max(...before.customers.map((c) => Number(c['version'])));
      await ingestKioskEvents(db, 'K1', [dispenseEvent('K1', first!, 1_000)], LIMITS);
      const [after] = await db.query<{ version: number }>('SELECT version FROM customers WHERE account_id = $1', [
        first,
      ]);
      expect(after!.version).toBeGreaterThan(maxBefore);
    } finally {
      await db.close();
    }
  });

  // Once per run (PGlite on disk is slow to open): on the server when there is one.
  const lastBackend = backend.name === backends().at(-1)!.name;
  it.runIf(lastBackend)(
    'refuses to restore over a database with a ledger unless told to replace it, and changes nothing',
    async () => {
      const target = await freshTarget();
      let db = await openCloudDatabase(target);
      const seeded = await seedDemo(db, { kioskId: 'K1', kioskSecret: 'kiosk-secret-1' });
      await db.close();
      const file = join(await tempDir(), 'cloud.backup');
      await backupCloud(target, file);

      db = await openCloudDatabase(target);
      await ingestKioskEvents(db, 'K1', [dispenseEvent('K1', seeded.customers[0]!.accountId, 2_000)], LIMITS);
      const current = await moneyState(db);
      await db.close();

      await expect(restoreCloud(target, file)).rejects.toMatchObject({ code: 'RESTORE_WOULD_REPLACE' });
      db = await openCloudDatabase(target);
      expect(await moneyState(db)).toEqual(current);
      await db.close();

      await restoreCloud(target, file, { replace: true });
      db = await openCloudDatabase(target);
      const restored = await moneyState(db);
      await db.close();
      expect(restored.ledger.length).toBe(current.ledger.length - 1);
    },
  );

  it('refuses a file that is not a backup of this kind', async () => {
    const target = await freshTarget();
    const junk = join(await tempDir(), 'junk.backup');
    await writeFile(junk, 'hello');
    await expect(restoreCloud(target, junk)).rejects.toMatchObject({ code: 'BACKUP_MISMATCH' });
  });
});
