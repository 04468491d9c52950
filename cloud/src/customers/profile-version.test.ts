import { CustomerRecord } from '@tusafishe/protocol';
import { describe, expect, it } from 'vitest';
import { backends, freshDb } from '../../test/backends.js';
import { migrate } from '../store/migrations.js';
import { createCustomer, profilesChangedBeyond } from './customers.js';

/** What the change feed sends every kiosk: each field of the record but the balance, usage and token counter. */
const PROFILE_CHANGES: Record<string, string> = {
  phone: `phone = '+254700500099'`,
  name: `name = 'Renamed'`,
  pin_hash: `pin_hash = 'other'`,
  status: `status = 'suspended'`,
  expires_at: 'expires_at = 1',
  daily_limit_ml: 'daily_limit_ml = 5000',
  allowed_kiosks: `allowed_kiosks = '{KIOSK-A}'`,
  locked_until: 'locked_until = 1',
  token_key: `token_key = 'k'`,
  tokens_void: `tokens_void = '{1}'`,
};
/** Changes kiosks following only their own customers' balances are not all sent. */
const OTHER_CHANGES = [
  'balance_ml = balance_ml + 1',
  // Moved by each top-up with a keypad token, with the balance.
  'token_counter = token_counter + 1',
  `usage_day = '2026-12-01', used_today_ml = 5`,
  `language = 'sw'`,
  'pin_failures = 1',
  `followers = '{"KIOSK-A": 1}'`,
];
const NOT_PROFILE = new Set(['account_id', 'version', 'balance_ml', 'usage_day', 'used_today_ml', 'token_counter']);

describe.each(backends())('a customer’s profile version on $name (migration 23)', (backend) => {
  const db = freshDb(backend);

  async function versions(accountId: string): Promise<{ version: number; profile: number }> {
    const [row] = await db().query<{ version: string; profile_version: string }>(
      'SELECT version, profile_version FROM customers WHERE account_id = $1',
      [accountId],
    );
    return { version: Number(row!.version), profile: Number(row!.profile_version) };
  }

  it('covers every field of the published record but the balance, usage and token counter', () => {
    const fields = Object.keys(CustomerRecord.shape).filter((field) => !NOT_PROFILE.has(field));
    expect(Object.keys(PROFILE_CHANGES).sort()).toEqual(fields.sort());
  });

  it('moves with a new customer and each change of the profile, not with the others', async () => {
    const customer = await createCustomer(db(), { phone: '+254700500001', name: 'Amina', pin: '1357' });
    const created = await versions(customer.account_id);
    expect(created.profile).toBe(created.version);
    for (const change of Object.values(PROFILE_CHANGES)) {
      await db().query(`UPDATE customers SET ${change} WHERE account_id = $1`, [customer.account_id]);
      const after = await versions(customer.account_id);
      expect(after.profile, change).toBe(after.version);
    }
    const { profile } = await versions(customer.account_id);
    for (const change of OTHER_CHANGES) {
      await db().query(`UPDATE customers SET ${change} WHERE account_id = $1`, [customer.account_id]);
      const after = await versions(customer.account_id);
      expect(after.version, change).toBeGreaterThan(profile);
      expect(after.profile, change).toBe(profile);
    }
  });

  it('starts an existing fleet at the head, its followers from the last 60 days of the ledger', async () => {
    // The database as it stood before migration 23, holding customers and kiosks' events.
    await db().exec(`
      CREATE OR REPLACE FUNCTION customers_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.version := nextval('customer_version');
        NEW.updated_at := now();
        RETURN NEW;
      END $$;
      ALTER TABLE customers DROP COLUMN profile_version, DROP COLUMN followers;
      DELETE FROM schema_migrations WHERE version = 23;`);
    const old = await createCustomer(db(), { phone: '+254700500002', name: 'Baraka', pin: '2468' });
    const events = [
      ['KIOSK-A', "now() - interval '2 days'"],
      ['KIOSK-B', "now() - interval '90 days'"],
      ['KIOSK-C', 'now()'],
    ];
    for (const [kiosk, at] of events)
      await db().query(
        `INSERT INTO ledger_events (event_id, type, account_id, amount_ml, kiosk_id, occurred_at, received_at)
         VALUES (gen_random_uuid(), 'dispense', $1, 0, $2, 0, ${at})`,
        [old.account_id, kiosk],
      );
    const before = await db().query<{ version: string; head: string }>(
      'SELECT version, (SELECT max(version) FROM customers) AS head FROM customers WHERE account_id = $1',
      [old.account_id],
    );

    expect(await migrate(db())).toBe(1);
    const [row] = await db().query<{ version: string; profile_version: string; followers: Record<string, number> }>(
      'SELECT version, profile_version, followers FROM customers WHERE account_id = $1',
      [old.account_id],
    );
    // Kiosks hold these rows already: no new version for them to pull.
    expect(row!.version).toBe(before[0]!.version);
    expect(row!.profile_version).toBe(before[0]!.head);
    const today = Math.floor(Date.now() / 86_400_000);
    expect(Object.keys(row!.followers).sort()).toEqual(['KIOSK-A', 'KIOSK-C']);
    expect(row!.followers['KIOSK-C']).toBeGreaterThanOrEqual(today - 1);
    expect(row!.followers['KIOSK-A']).toBeLessThan(row!.followers['KIOSK-C']!);
  });

  it('finds a profile change a read up to a version would not see: its customer changed again above it', async () => {
    const customer = await createCustomer(db(), { phone: '+254700500003', name: 'Chausiku', pin: '1122' });
    const created = await versions(customer.account_id);
    await db().query('UPDATE customers SET balance_ml = balance_ml + 1 WHERE account_id = $1', [customer.account_id]);
    const { version } = await versions(customer.account_id);
    const ids = async (after: number, through: number): Promise<string[]> =>
      (await profilesChangedBeyond(db(), after, through)).map((change) => change.record.account_id);
    // Read up to the creation: the row is at its top-up, above it.
    expect(await ids(created.version - 1, created.version)).toEqual([customer.account_id]);
    // Read up to the top-up, or from past the creation: nothing hidden.
    expect(await ids(created.version - 1, version)).toEqual([]);
    expect(await ids(created.version, version - 1)).toEqual([]);
  });
});
