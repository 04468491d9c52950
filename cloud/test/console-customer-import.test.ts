import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerImportAnswer } from '../src/console/api-types.js';
import type { RunningCloud } from '../src/cloud.js';
import { createCustomer, findCustomer } from '../src/customers/customers.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { dial } from './africas-talking.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { signInAs, type ConsoleSession } from './console-session.js';
import { kioskClient } from './kiosk-client.js';

/** Uploads CSV text as the console does. */
async function upload(
  cloud: RunningCloud,
  session: ConsoleSession,
  csv: string,
  query: string,
  contentType = 'text/csv; charset=utf-8',
): Promise<Response> {
  return fetch(`${cloud.url}/console/api/customers/import?${query}`, {
    method: 'POST',
    headers: { cookie: session.cookie, 'content-type': contentType },
    body: csv,
  });
}

async function importCsv(
  cloud: RunningCloud,
  session: ConsoleSession,
  csv: string,
  query: string,
): Promise<CustomerImportAnswer> {
  const response = await upload(cloud, session, csv, query);
  if (response.status !== 200) throw new Error(`import: ${response.status} ${await response.text()}`);
  return (await response.json()) as CustomerImportAnswer;
}

/** What an import may change: customers, ledger events, audit lines. */
async function counts(cloud: RunningCloud): Promise<Record<string, number>> {
  const [row] = await cloud.db.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM customers) AS customers,
            (SELECT count(*)::int FROM ledger_events) AS events,
            (SELECT count(*)::int FROM audit_log) AS audit`,
  );
  return row!;
}

const CAP_ML = 20_000;
// Column order is free and names any case; line numbers are the file's (header = line 1).
const FILE = [
  'Name,PHONE,credit_ml,account_id',
  'Wanjiru Kamau,0712 400 001,5000,',
  'Okello Peter,+256772400002,0,OLD1234',
  'No Number,12345,100,',
  '"Kamau, again",254712400001,300,',
  'Fraction,0712400005,10.5,',
  'Too Much,0712400006,25000,',
  'Short Line,0712400007',
  'Registered Before,0712400008,,',
  '',
  'Last One,0712400009,,',
].join('\r\n');
const OUTCOMES = [
  { line: 2, outcome: 'imported', phone: '+254712400001', opening_balance_ml: 5000 },
  { line: 3, outcome: 'imported', phone: '+256772400002', account_id: 'OLD1234', opening_balance_ml: 0 },
  { line: 4, outcome: 'skipped', reason: 'invalid_phone' },
  {
    line: 5,
    outcome: 'skipped',
    reason: 'duplicate_phone',
    message: '+254712400001 is also on line 2, imported first',
  },
  { line: 6, outcome: 'skipped', reason: 'invalid_credits' },
  { line: 7, outcome: 'skipped', reason: 'credits_over_cap' },
  { line: 8, outcome: 'skipped', reason: 'invalid_line' },
  { line: 9, outcome: 'skipped', reason: 'duplicate_phone' },
  { line: 11, outcome: 'imported', phone: '+254712400009', opening_balance_ml: 0 },
];

// Issue 12 §4: CSV import of customers with a dry run and a report.
describe.each(backends())('console CSV import of customers, on $name', (backend) => {
  let cloud: RunningCloud;
  let kiosk: KioskCredential;
  let support: ConsoleSession;
  let admin: ConsoleSession;
  beforeAll(async () => {
    cloud = await startTestCloud(backend, { console: { correctionCapMl: CAP_ML } });
    kiosk = await createKiosk(cloud.db, { kioskId: 'KIOSK-IMPORT' });
    [support, admin] = await Promise.all([signInAs(cloud, 'customer_service', 'support'), signInAs(cloud, 'admin')]);
    await createCustomer(cloud.db, { phone: '+254712400008', name: 'Registered by USSD', pin: '2580' });
  });
  afterAll(() => stopTestCloud(cloud, backend));

  it('reports every line in a dry run and changes nothing', async () => {
    const before = await counts(cloud);
    const dry = await importCsv(cloud, support, FILE, 'dry_run=true');
    expect(dry.summary).toEqual({
      dry_run: true,
      read: 9,
      imported: 3,
      already_imported: 0,
      skipped: 6,
      skipped_by_reason: {
        invalid_phone: 1,
        duplicate_phone: 2,
        invalid_credits: 1,
        credits_over_cap: 1,
        invalid_line: 1,
      },
      new_account_ids: 2,
      opening_balance_ml: 5000,
    });
    expect(dry.lines).toEqual(OUTCOMES.map((o) => expect.objectContaining(o)));
    expect(dry.lines[8]?.message).toBeUndefined();
    expect(dry.lines[7]?.message).toMatch(/already belongs to cloud account TS/);
    expect(await counts(cloud)).toEqual(before);
    // Without dry_run it is a dry run too: a real import must say so.
    expect((await importCsv(cloud, support, FILE, '')).summary.dry_run).toBe(true);
    expect(await counts(cloud)).toEqual(before);
  });

  it('imports what the dry run said, once; the customers reach gateways and set a PIN by USSD', async () => {
    const gateway = kioskClient(cloud.url, kiosk);
    const { cursor } = (await gateway.pull({ limit: 5000 })).body;
    const before = await counts(cloud);
    const real = await importCsv(cloud, support, FILE, 'dry_run=false');
    expect(real.summary).toMatchObject({ dry_run: false, read: 9, imported: 3, skipped: 6 });
    expect(real.lines).toEqual(OUTCOMES.map((o) => expect.objectContaining(o)));
    const created = real.lines.filter((l) => l.outcome === 'imported').map((l) => l.account_id!);
    // Three customers, three opening-balance events, three audit lines and one for the run.
    expect(await counts(cloud)).toEqual({
      customers: before.customers! + 3,
      events: before.events! + 3,
      audit: before.audit! + 4,
    });
    const wanjiru = (await findCustomer(cloud.db, created[0]!))!;
    expect(wanjiru).toMatchObject({ name: 'Wanjiru Kamau', status: 'inactive', pin_hash: '', balance_ml: 5000 });
    const audit = await cloud.db.query<{ actor: string; action: string; subject: string }>(
      `SELECT actor, action, subject FROM audit_log WHERE action LIKE 'customer%import%' ORDER BY id`,
    );
    expect(audit).toEqual([
      ...created.map((subject) => ({ actor: 'support', action: 'customer.import', subject })),
      { actor: 'support', action: 'customers.import_csv', subject: 'customers' },
    ]);

    // Like any other customer: every gateway pulls them.
    const pulled = await gateway.pull({ cursor });
    expect(pulled.body.customers.map((c) => c.account_id).sort()).toEqual([...created].sort());

    // The same file again creates nothing: every imported line is found by its phone.
    const again = await importCsv(cloud, support, FILE, 'dry_run=false');
    expect(again.summary).toMatchObject({ imported: 0, already_imported: 3, skipped: 6 });
    expect(again.lines.filter((l) => l.outcome === 'already_imported').map((l) => l.account_id)).toEqual(created);
    expect((await counts(cloud)).customers).toBe(before.customers! + 3);

    // No operator typed a PIN: the customer sets one on USSD (menu 3), which opens the account.
    expect((await dial(cloud.url, '+254712400001', ['3', '4826', '4826'])).at(-1)).toMatch(/^END Your PIN is set/);
    expect((await findCustomer(cloud.db, wanjiru.account_id))?.status).toBe('active');
  });

  it('lets an admin give more than the cap and refuses files it cannot read', async () => {
    const big = await importCsv(cloud, admin, 'phone,credit_ml\n0712400006,25000\n', 'dry_run=true');
    expect(big.lines).toEqual([expect.objectContaining({ outcome: 'imported', opening_balance_ml: 25_000 })]);
    const before = await counts(cloud);
    const refusals: [string, string, string, number, string][] = [
      ['unknown column', 'phone,credits\n0712400010,5\n', 'text/csv', 400, 'INVALID_CSV'],
      ['no phone column', 'name\nAmina\n', 'text/csv', 400, 'INVALID_CSV'],
      ['empty', '', 'text/csv', 400, 'INVALID_CSV'],
      ['unclosed quote', 'phone,name\n0712400010,"Amina\n', 'text/csv', 400, 'INVALID_CSV'],
      ['JSON', '{"phone":"0712400010"}', 'application/json', 415, 'JSON_REQUIRED'],
    ];
    for (const [what, csv, type, status, code] of refusals) {
      const response = await upload(cloud, support, csv, 'dry_run=false', type);
      expect([response.status, ((await response.json()) as { code: string }).code], what).toEqual([status, code]);
    }
    const tooMany = `phone\n${Array.from({ length: 2001 }, (_, i) => `07124${String(i).padStart(5, '0')}`).join('\n')}`;
    expect((await upload(cloud, support, tooMany, 'dry_run=false')).status).toBe(400);
    expect(await counts(cloud)).toEqual(before);
  });
});
