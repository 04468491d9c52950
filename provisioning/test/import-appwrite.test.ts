import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretToken } from '@tusafishe/protocol/testing';
import { verifySecret } from '@tusafishe/protocol/secret-hash';
import { createCustomer, balanceDrift, type Db } from '@tusafishe/cloud/provisioning';
import { openCloudTarget } from '../src/stores/cloud-database.js';
import { startAppwriteSimulator, type AppwriteSimulator } from './appwrite-simulator.js';
import { runCommand, type CommandResult } from './run-command.js';

const PROJECT = '689107c288885e90c039';
const DATABASE = '6864aed388d20c69a461';
const API_KEY = 'standard_0123456789abcdef';
const CREATED = '2025-08-10T00:00:00Z';

/** The old collection's shape (seed: tusafishe-integration-overview.md), with the troubles real data has. */
const SPECIAL = [
  {
    $id: 'a-valid-kenya',
    phone_number: '+254700000102',
    pin: '917364',
    active: true,
    is_registered: true,
    credits: 5000,
    account_id: 'AQP123456',
    full_name: 'Jane Smith',
    registration_state: 'completed',
    created_at: CREATED,
    location: 'Kisumu',
  },
  {
    $id: 'b-uganda-no-plus',
    phone_number: '256772123456',
    pin: '5831',
    active: true,
    credits_ml: 12_000,
    account_id: 'AQP200001',
    full_name: 'Okello Peter',
  },
  {
    $id: 'c-local-form',
    phone_number: '0700 123 456',
    pin: '4720',
    active: true,
    credits: 0,
    full_name: 'Nakato Sarah',
  },
  { $id: 'd-missing-pin', phone_number: '0772000111', pin: '', active: true, credits: 3000, full_name: 'No Pin' },
  { $id: 'e-bad-phone', phone_number: '12345', pin: '6602', active: true, credits: 100 },
  {
    $id: 'f-duplicate-phone',
    phone_number: '+256 700 123456',
    pin: '7719',
    active: true,
    credits: 999,
    full_name: 'Same Phone As C',
  },
  {
    $id: 'g-inactive-taken-id',
    phone_number: '0772000222',
    pin: '3390',
    active: false,
    credits: 1500,
    account_id: 'AQP123456',
    full_name: 'Suspended',
  },
  {
    $id: 'h-invalid-id',
    phone_number: '0772000333',
    pin: '246810',
    active: true,
    credits: 700,
    account_id: 'AQP-77',
    full_name: 'Old Id',
  },
  { $id: 'i-numeric-pin', phone_number: '0772000444', pin: 123, active: true, credits: 50 },
  { $id: 'j-registered-by-ussd', phone_number: '0772000555', pin: '8080', active: true, credits: 400 },
  { $id: 'k-fraction-credits', phone_number: '0772000666', pin: '1357', active: true, credits: 10.5 },
];
const SECRET_PINS = ['917364', '246810'];
const BULK = Array.from({ length: 120 }, (_, i) => ({
  $id: `m-${String(i).padStart(3, '0')}`,
  phone_number: `0772${String(300_000 + i)}`,
  pin: String(1000 + ((i * 7919) % 9000)),
  active: true,
  credits_ml: 1000 * i,
  account_id: `AQP${String(300_000 + i)}`,
  full_name: `Customer ${i}`,
}));
const IMPORTABLE = 5 + BULK.length; // a, b, c, g, h and the bulk
const EXPECTED_SKIPS = { missing_pin: 1, invalid_phone: 1, duplicate_phone: 2, invalid_pin: 1, invalid_credits: 1 };

describe('customers import-appwrite', () => {
  let appwrite: AppwriteSimulator;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const outputs: CommandResult[] = [];
  const args = () => [
    'customers',
    'import-appwrite',
    '--project',
    PROJECT,
    '--database',
    DATABASE,
    '--collection',
    'customers',
    '--region',
    'UG',
    '--page-size',
    '25',
  ];

  async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const db = await openCloudTarget({ 'data-dir': dir });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }
  async function run(extra: string[] = [], overrides: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
    const result = await runCommand([...args(), ...extra], { env: { ...env, ...overrides } });
    outputs.push(result);
    return result;
  }

  beforeAll(async () => {
    appwrite = await startAppwriteSimulator({
      project: PROJECT,
      apiKey: API_KEY,
      database: DATABASE,
      collection: 'customers',
      documents: [...SPECIAL, ...BULK],
    });
    dir = await mkdtemp(join(tmpdir(), 'provisioning-import-'));
    env = { APPWRITE_API_KEY: API_KEY, APPWRITE_ENDPOINT: appwrite.endpoint, DATA_DIR: dir };
    await withDb((db) => createCustomer(db, { phone: '+256772000555', name: 'Registered by USSD', pin: '2468' }));
  });
  afterAll(async () => {
    await appwrite?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a wrong API key, says why, and changes nothing', async () => {
    const result = await run([], { APPWRITE_API_KEY: 'wrong-key' });
    expect(result.code).toBe(1);
    expect(result.err).toContain('401 user_unauthorized');
    expect(await withDb((db) => db.query('SELECT 1 FROM customers'))).toHaveLength(1);
  });

  it('dry run reports what it would do and changes nothing', async () => {
    const reportFile = join(dir, 'dry-run.json');
    const result = await run(['--dry-run', '--report', reportFile]);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`Would have imported ${IMPORTABLE} of ${SPECIAL.length + BULK.length}`);
    const report = JSON.parse(await readFile(reportFile, 'utf8'));
    expect(report.summary).toMatchObject({ dry_run: true, imported: IMPORTABLE, skipped_by_reason: EXPECTED_SKIPS });
    // One open of the data directory for both counts: each open of PGlite on disk takes seconds.
    const [customers, ledger] = await withDb(async (db) => [
      await db.query('SELECT 1 FROM customers'),
      await db.query('SELECT 1 FROM ledger_events'),
    ]);
    expect(customers).toHaveLength(1);
    expect(ledger).toHaveLength(0);
  });

  it('imports valid customers with hashed PINs and opening balances, and reports every skipped row with its reason', async () => {
    const reportFile = join(dir, 'import.json');
    const result = await run(['--report', reportFile]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/skipped\s+d-missing-pin\s+missing_pin/);
    expect(result.out).toMatch(/skipped\s+e-bad-phone\s+invalid_phone/);
    expect(result.out).toMatch(
      /skipped\s+f-duplicate-phone\s+duplicate_phone: \+256700123456 is also on document c-local-form/,
    );
    expect(result.out).toMatch(
      /skipped\s+j-registered-by-ussd\s+duplicate_phone: \+256772000555 already belongs to cloud account TS/,
    );
    expect(result.out).toMatch(/skipped\s+i-numeric-pin\s+invalid_pin/);
    expect(result.out).toMatch(/skipped\s+k-fraction-credits\s+invalid_credits/);
    expect(result.out).toMatch(
      /new id\s+g-inactive-taken-id\s+\+256772000222 → TS\w{7} \(old account id AQP123456 is taken\)/,
    );
    expect(result.out).toMatch(/new id\s+h-invalid-id .*old account id "AQP-77" is not 4–16 letters and digits/);

    const report = JSON.parse(await readFile(reportFile, 'utf8'));
    const totalCredits = 5000 + 12_000 + 0 + 1500 + 700 + BULK.reduce((sum, b) => sum + b.credits_ml, 0);
    expect(report.summary).toEqual({
      dry_run: false,
      read: SPECIAL.length + BULK.length,
      imported: IMPORTABLE,
      already_imported: 0,
      skipped: 6,
      skipped_by_reason: EXPECTED_SKIPS,
      new_account_ids: 3,
      opening_balance_ml: totalCredits,
    });

    await withDb(async (db) => {
      const customers = await db.query<{
        account_id: string;
        phone: string;
        name: string;
        pin_hash: string;
        status: string;
        balance_ml: number;
      }>('SELECT account_id, phone, name, pin_hash, status, balance_ml FROM customers');
      const byPhone = new Map(customers.map((c) => [c.phone, c]));
      expect(byPhone.get('+254700000102')).toMatchObject({
        account_id: 'AQP123456',
        name: 'Jane Smith',
        status: 'active',
        balance_ml: 5000,
      });
      expect(byPhone.get('+256772123456')).toMatchObject({ account_id: 'AQP200001', balance_ml: 12_000 });
      expect(byPhone.get('+256700123456')).toMatchObject({ name: 'Nakato Sarah', balance_ml: 0 });
      expect(byPhone.get('+256772000222')).toMatchObject({ status: 'suspended', balance_ml: 1500 });
      expect(byPhone.get('+256772000555')?.name).toBe('Registered by USSD');
      for (const phone of ['+256772000111', '+256772000444', '+256772000666']) expect(byPhone.has(phone)).toBe(false);
      expect(await verifySecret('917364', byPhone.get('+254700000102')!.pin_hash)).toBe(true);
      expect(await verifySecret('4720', byPhone.get('+256700123456')!.pin_hash)).toBe(true);
      expect(await verifySecret('246810', byPhone.get('+256772000333')!.pin_hash)).toBe(true);
      expect(await verifySecret('0000', byPhone.get('+256772000333')!.pin_hash)).toBe(false);
      for (const bulk of BULK.slice(0, 5)) {
        const customer = byPhone.get(`+256${bulk.phone_number.slice(1)}`)!;
        expect(customer).toMatchObject({ account_id: bulk.account_id, balance_ml: bulk.credits_ml });
        expect(await verifySecret(bulk.pin, customer.pin_hash)).toBe(true);
      }
      const events = await db.query<{ type: string; details: { reason: string; operator: string } }>(
        'SELECT type, details FROM ledger_events',
      );
      expect(events).toHaveLength(IMPORTABLE);
      expect(
        events.every(
          (e) =>
            e.type === 'adjustment' &&
            e.details.reason === 'import from Appwrite' &&
            e.details.operator === 'provisioning',
        ),
      ).toBe(true);
      expect(await balanceDrift(db)).toEqual([]);
    });
    // Cursor pagination: ordered by $id, 25 a page (a…k, m-000…m-013), the next after the last id of the one before.
    const pages = appwrite.requests.slice(-6).map((r) => r.queries);
    expect(pages[0]).toEqual([
      { method: 'orderAsc', attribute: '$id' },
      { method: 'limit', values: [25] },
    ]);
    expect(pages[1]).toContainEqual({ method: 'cursorAfter', values: ['m-013'] });
  });

  it('a second run imports nothing and credits nothing twice', async () => {
    const before = await withDb((db) =>
      db.query<{ account_id: string; balance_ml: number; version: number }>(
        'SELECT account_id, balance_ml, version FROM customers ORDER BY account_id',
      ),
    );
    const result = await run();
    expect(result.code).toBe(0);
    expect(result.out).toContain(`Imported 0 of ${SPECIAL.length + BULK.length}`);
    expect(result.out).toContain(`already imported: ${IMPORTABLE}`);
    expect(result.out).not.toContain('new id');
    const [after, ledger] = await withDb(async (db) => [
      await db.query<{ account_id: string; balance_ml: number; version: number }>(
        'SELECT account_id, balance_ml, version FROM customers ORDER BY account_id',
      ),
      await db.query('SELECT 1 FROM ledger_events'),
    ]);
    expect(after).toEqual(before);
    expect(ledger).toHaveLength(IMPORTABLE);
  });

  it('runs as the npm script and never shows a PIN on stdout, stderr or in a report', async () => {
    const reportFile = join(dir, 'cli.json');
    const { stdout, stderr } = await promisify(execFile)(
      'npx',
      ['tsx', 'provisioning/src/cli.ts', ...args(), '--dry-run', '--report', reportFile],
      { cwd: join(import.meta.dirname, '../..'), env: { ...process.env, ...env }, timeout: 60_000 },
    );
    expect(stdout).toContain(`already imported: ${IMPORTABLE}`);
    const texts = [
      stdout,
      stderr,
      await readFile(reportFile, 'utf8'),
      await readFile(join(dir, 'import.json'), 'utf8'),
      ...outputs.flatMap((o) => [o.out, o.err]),
    ];
    for (const text of texts) {
      for (const pin of SECRET_PINS) expect(text).not.toMatch(secretToken(pin));
      expect(text).not.toMatch(/"pin"/);
    }
  });
});
