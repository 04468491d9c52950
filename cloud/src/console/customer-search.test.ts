import { beforeAll, describe, expect, it } from 'vitest';
import { backends, freshDb } from '../../test/backends.js';
import { searchCustomers, searchStatement } from './customer-search.js';

describe.each(backends())('customer search on $name', (backend) => {
  const db = freshDb(backend);
  beforeAll(async () => {
    // Enough customers that an index beats a scan; one of them with words worth finding.
    await db().query(
      `INSERT INTO customers (account_id, phone, name, status)
       SELECT 'SR' || lpad(c::text, 6, '0'), '+2547' || lpad(c::text, 8, '0'), 'Customer ' || c, 'active'
       FROM generate_series(1, 3000) c`,
    );
    await db().query(
      `INSERT INTO customers (account_id, phone, name, status) VALUES
         ('SQ000001', '+256772000001', 'Amina Wanjiru Otieno', 'active'),
         ('SQ000002', '+256772000002', 'Wanjiku Kamau', 'active'),
         ('SQ000003', '+256772000003', 'Nawanjiru Auma', 'active')`,
    );
    await db().exec('ANALYZE customers');
  }, 180_000);

  const names = async (query: string): Promise<string[]> =>
    (await searchCustomers(db(), query, 1)).customers.map((customer) => customer.name);

  it('finds a name by its start or a word start, in any case, not by the middle of a word', async () => {
    expect(await names('wanji')).toEqual(['Amina Wanjiru Otieno', 'Wanjiku Kamau']);
    expect(await names('OTIENO')).toEqual(['Amina Wanjiru Otieno']);
    expect(await names('amina wanjiru')).toEqual(['Amina Wanjiru Otieno']);
    expect(await names('anjiru')).toEqual([]);
    expect(await names('100%')).toEqual([]);
  });

  it('finds a customer by a phone in a keypad form or by the start of an account id', async () => {
    expect(await names('0772 000 002')).toEqual(['Wanjiku Kamau']);
    expect(await names('sq00000')).toEqual(['Amina Wanjiru Otieno', 'Nawanjiru Auma', 'Wanjiku Kamau']);
  });

  // What keeps a search at 100,000 customers fast (bench:console): no arm makes it read every row.
  it.each([
    ['a word of a name', 'otieno', /customers_name_trgm/],
    // PGlite's collation is C, so its primary key serves prefixes too.
    ['the start of an account id', 'SQ0000', /customers_(account_prefix|pkey)/],
    ['a phone number', '0772000001', /customers_phone_key/],
  ])('looks %s up in an index', async (_what, query, index) => {
    const { sql, params } = searchStatement(query, 26, 0);
    const plan = await db().transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(index);
    expect(plan).not.toContain('Seq Scan');
  });
});
