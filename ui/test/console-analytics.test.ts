/** The console's analytics and reports pages in Chromium, on a cloud with a few days of dispenses. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, createKiosk } from '@tusafishe/cloud';
import { startConsoleHarness, type ConsoleHarness } from './console-harness.js';

describe('console analytics and reports in Chromium', () => {
  let harness: ConsoleHarness;
  beforeAll(async () => {
    harness = await startConsoleHarness();
    const db = harness.cloud.db;
    for (const kioskId of ['K1', 'K2']) await createKiosk(db, { kioskId });
    const names = ['Amina Achieng', 'Brian Okello', 'Grace Nakato'];
    const accounts: string[] = [];
    for (const [i, name] of names.entries())
      accounts.push((await createCustomer(db, { phone: `+25677200000${i}`, name, pin: '2580' })).account_id);
    // 20 L a day each at K1 (Grace also 10 L at K2) over the last 10 days, merged as a gateway's push would be.
    await db.query(
      `INSERT INTO ledger_events (event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at)
       SELECT gen_random_uuid(), 'dispense', a, CASE WHEN k = 'K1' THEN -20000 ELSE -10000 END, k, 'D1', gen_random_uuid()::text,
              (extract(epoch FROM now() - d * interval '1 day' - (i * 37) * interval '1 minute') * 1000)::bigint
       FROM unnest($1::text[]) WITH ORDINALITY AS c(a, i), generate_series(0, 9) d, unnest(ARRAY['K1', 'K2']) k
       WHERE k = 'K1' OR i = 3`,
      [accounts],
    );
    await db.query(
      `INSERT INTO payments (payment_id, provider, account_id, phone, amount_minor, currency, status, settled_at)
       VALUES (gen_random_uuid(), 'mtn', $1, '+256772000000', 5000, 'UGX', 'successful', now() - interval '2 days'),
              (gen_random_uuid(), 'mpesa', $1, '+254700000101', 12550, 'KES', 'successful', now() - interval '1 day')`,
      [accounts[0]],
    );
  });
  afterAll(() => harness?.close());

  it('shows finance the figures, charts and CSV links of the fleet and of one kiosk', async () => {
    for (const viewport of ['desktop', 'phone'] as const) {
      const page = await harness.newPage(viewport);
      await harness.signIn(page, 'finance', { hash: 'analytics' });
      await expect.poll(() => page.locator('console-analytics-page .figure').first().textContent()).toBe('700 L');
      await expect.poll(() => page.getByText('Grace Nakato').count()).toBeGreaterThan(0);
      await expect.poll(() => page.getByRole('img', { name: 'Litres per day' }).locator('rect').count()).toBe(30);
      await expect.poll(() => page.getByText('UGX 5,000').count()).toBe(1);
      await expect.poll(() => page.getByText('KES 125.50').count()).toBe(1);
      // artifacts/screenshots/ (the README's pictures are made by npm run screenshots).
      await harness.screenshot(page, `console-analytics-${viewport}`);

      await page.getByLabel('Kiosk').fill('K2');
      await page.getByRole('button', { name: 'Show' }).click();
      await expect.poll(() => page.locator('console-analytics-page .figure').first().textContent()).toBe('100 L');
      const csv = await page.getByRole('link', { name: 'CSV' }).first().getAttribute('href');
      expect(csv).toMatch(/^\/console\/api\/analytics\/litres-per-day\.csv\?from=.*&kiosk=K2$/);
      const response = await page.request.get(`${harness.cloud.url}${csv}`);
      expect((await response.text()).split('\r\n')[0]).toBe('day,dispenses,volume_ml');
      await page.context().close();
    }
  });

  it('gives field staff the monthly PDF of a kiosk', async () => {
    const page = await harness.newPage('phone');
    await harness.signIn(page, 'field', { hash: 'reports' });
    await page.getByLabel('Kiosk').fill('K1');
    const href = await page.getByRole('link', { name: 'Open PDF' }).getAttribute('href');
    expect(href).toMatch(/^\/console\/api\/reports\/monthly\.pdf\?month=\d{4}-\d{2}&kiosk=K1$/);
    const pdf = await page.request.get(`${harness.cloud.url}${href}`);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
    await page.context().close();
  });
});
