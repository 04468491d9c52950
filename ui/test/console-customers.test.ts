/** The console's Customers page in Chromium: search, detail, PIN reset, corrections and the cap, roles. */
import { newId, type LedgerEvent } from '@tusafishe/protocol';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, createKiosk, recordAdjustment } from '@tusafishe/cloud';
import { lastSmsCode } from '@tusafishe/cloud/testing';
import { startConsoleHarness, type ConsoleHarness } from './console-harness.js';

const PHONE = '+254712345678';
const CAP_ML = 10_000;

describe('console customers page in Chromium', () => {
  let harness: ConsoleHarness;
  let accountId: string;
  let otherId: string;
  let dispenseId: string;

  beforeAll(async () => {
    harness = await startConsoleHarness({ console: { correctionCapMl: CAP_ML } });
    const db = harness.cloud.db;
    const customer = await createCustomer(db, { phone: PHONE, name: 'Wanjiru Kamau', pin: '4826' });
    accountId = customer.account_id;
    otherId = (await createCustomer(db, { phone: '+254712000111', name: 'Wanjiku Otieno', pin: '1357' })).account_id;
    // 26 more by one name: two pages of search results (no PIN: no hashing, quick to make).
    for (let i = 0; i < 26; i += 1)
      await createCustomer(db, { phone: `+2547130000${String(i).padStart(2, '0')}`, name: `Akinyi ${i}` });
    await recordAdjustment(db, { accountId, amountMl: 20_000, reason: 'opening balance', operator: 'test' });
    // One dispense at a kiosk, pushed as a gateway would, for the history and its reversal.
    const { secret } = await createKiosk(db, { kioskId: 'K9' });
    dispenseId = newId();
    const dispense: LedgerEvent = {
      event_id: dispenseId,
      type: 'dispense',
      account_id: accountId,
      amount_ml: -2_000,
      kiosk_id: 'K9',
      dispenser_id: 'D1',
      source_id: newId(),
      occurred_at: Date.now(),
    };
    const pushed = await fetch(`${harness.cloud.url}/kiosk/v1/events`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`K9:${secret}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ events: [dispense] }),
    });
    expect(pushed.status).toBe(200);
  });
  afterAll(() => harness?.close());

  const balance = (page: Page) => page.getByTestId('balance').textContent();
  const action = (page: Page, name: string) => page.locator(`[data-action="${name}"]`);

  it('lets support find a customer by a local number, reset the PIN and correct within the cap', async () => {
    const page = await harness.newPage('desktop');
    await harness.signIn(page, 'customer_service', { username: 'support', hash: 'customers' });
    await page.getByLabel('Phone, account id or name').fill('0712 345 678');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator(`tr[data-account="${accountId}"]`);
    await expect.poll(() => row.textContent()).toContain('Wanjiru Kamau');
    await expect.poll(() => page.locator('tr[data-account]').count()).toBe(1);
    // The CSV is the same search, downloaded with the session's cookie.
    const csvHref = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
    const csv = await page.evaluate(async (href) => (await fetch(href ?? '')).text(), csvHref);
    await harness.screenshot(page, 'console-customers-desktop');
    expect(csv).toContain(`"${accountId}","${PHONE}","Wanjiru Kamau","active","18000"`);

    await row.getByRole('link', { name: accountId }).click();
    await expect.poll(() => balance(page)).toBe('18 L');
    await expect.poll(() => page.getByTestId('customer-events').textContent()).toContain('K9/D1');

    // PIN reset: asked first, then the code goes by SMS (the agent never sees it).
    await action(page, 'pin').getByRole('button', { name: 'Send PIN reset code' }).click();
    await expect.poll(() => action(page, 'pin').getByRole('group').textContent()).toContain(`SMS to ${PHONE}`);
    await action(page, 'pin').getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => action(page, 'pin').getByRole('status').textContent()).toContain(`Code sent to ${PHONE}`);
    expect(await lastSmsCode(harness.cloud, PHONE)).toMatch(/^\d{6}$/);

    // A correction within the cap moves the balance.
    await action(page, 'correct').getByLabel('Litres').fill('5');
    await action(page, 'correct').getByLabel('Reason').fill('meter dispute at K9');
    await action(page, 'correct').getByRole('button', { name: 'Correct balance' }).click();
    await action(page, 'correct').getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => action(page, 'correct').getByRole('status').textContent()).toContain('+5 L');
    await expect.poll(() => balance(page)).toBe('23 L');

    // Over the cap: refused with a readable reason, nothing changes.
    await action(page, 'correct').getByLabel('Litres').fill('15');
    await action(page, 'correct').getByLabel('Reason').fill('large dispute');
    await action(page, 'correct').getByRole('button', { name: 'Correct balance' }).click();
    await action(page, 'correct').getByRole('button', { name: 'Confirm' }).click();
    await expect
      .poll(() => action(page, 'correct').getByRole('alert').textContent())
      .toContain('over your cap. Ask an admin');
    expect(await balance(page)).toBe('23 L');

    // The disputed dispense given back once: marked reversed, its button gone.
    const dispense = page.locator(`tr[data-event="${dispenseId}"]`);
    await dispense.getByRole('button', { name: 'Reverse' }).click();
    await page.getByLabel(/Give back 2 L/).fill('customer got no water');
    await page.getByRole('button', { name: 'Confirm reversal' }).click();
    await expect.poll(() => dispense.textContent()).toContain('reversed');
    await expect.poll(() => balance(page)).toBe('25 L');
    await expect.poll(() => dispense.getByRole('button', { name: 'Reverse' }).count()).toBe(0);

    // Back to the search: the results are still there.
    await page.getByRole('link', { name: 'Back to the search' }).click();
    await row.waitFor();
    await page.context().close();
  });

  it('lets support set limits, extend the subscription, move the phone number and deactivate', async () => {
    const page = await harness.newPage('desktop');
    await harness.signIn(page, 'customer_service', { username: 'support', hash: `customers/${otherId}` });
    const summary = page.getByTestId('customer-summary');
    await expect.poll(() => summary.textContent()).toContain('Wanjiku Otieno');
    const confirm = (name: string) => action(page, name).getByRole('button', { name: 'Confirm', exact: true }).click();
    const outcome = (name: string) => action(page, name).getByRole('status').textContent();

    await action(page, 'limits').getByLabel('Daily limit').fill('10');
    await action(page, 'limits').getByLabel('Allowed kiosks').fill('K9, K10');
    await action(page, 'limits').getByRole('button', { name: 'Save limits' }).click();
    await confirm('limits');
    await expect.poll(() => outcome('limits')).toContain('Saved');
    await expect.poll(() => page.getByTestId('allowed-kiosks').textContent()).toContain('K9, K10');
    await expect.poll(() => summary.textContent()).toContain('of 10 L');

    await action(page, 'extend').getByRole('button', { name: 'Extend' }).click();
    await confirm('extend');
    await expect.poll(() => outcome('extend')).toContain('Extended to');
    await expect.poll(() => page.getByTestId('subscription').textContent()).toContain('until');

    // The new number gets a code; a wrong one is refused in words, the right one moves the account.
    await action(page, 'phone').getByLabel('New number').fill('0712 000 222');
    await action(page, 'phone').getByRole('button', { name: 'Send code' }).click();
    await confirm('phone');
    await expect.poll(() => outcome('phone')).toContain('Code sent to +254712000222');
    const code = await lastSmsCode(harness.cloud, '+254712000222');
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await action(page, 'phone').getByLabel('Code sent to').fill(wrong);
    await action(page, 'phone').getByRole('button', { name: 'Confirm new number' }).click();
    await expect.poll(() => action(page, 'phone').getByRole('alert').textContent()).toContain('Wrong or expired code');
    await action(page, 'phone').getByLabel('Code sent to').fill(code);
    await action(page, 'phone').getByRole('button', { name: 'Confirm new number' }).click();
    await expect.poll(() => outcome('phone')).toContain('now uses +254712000222');
    await expect.poll(() => summary.textContent()).toContain('+254712000222');

    await action(page, 'status').getByRole('button', { name: 'Deactivate' }).click();
    await confirm('status');
    await expect.poll(() => summary.locator('[data-status]').getAttribute('data-status')).toBe('suspended');
    await action(page, 'status').getByRole('button', { name: 'Reactivate' }).waitFor();
    await page.context().close();
  });

  it('lets support import customers from CSV: a dry run first, then the import, with the report', async () => {
    const page = await harness.newPage('desktop');
    await harness.signIn(page, 'customer_service', { username: 'support', hash: 'customers' });
    const csv = [
      'phone,name,credit_ml',
      '0712 500 001,Achieng Import,5000',
      '12345,No Number,0',
      '0712 500 002,Big Credit,50000',
    ];
    await page.getByLabel('CSV file').setInputFiles({
      name: 'customers.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${csv.join('\n')}\n`),
    });
    await page.getByRole('button', { name: 'Check file (dry run)' }).click();
    const report = page.getByTestId('import-report');
    await expect.poll(() => report.textContent()).toContain('Dry run, nothing changed: 1 of 3 would be imported');
    await expect.poll(() => report.locator('tr[data-line="3"]').first().textContent()).toContain('skipped');
    await expect.poll(() => report.locator('tr[data-line="4"]').first().textContent()).toContain('over your cap');
    const [before] = await harness.cloud.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM customers WHERE phone = '+254712500001'",
    );
    expect(before?.n).toBe(0);

    await harness.screenshot(page, 'console-customer-import-desktop');
    await report.getByRole('button', { name: 'Import 1 customer' }).click();
    await expect.poll(() => report.textContent()).toContain('Imported 1 of 3');
    await page.getByLabel('Phone, account id or name').fill('achieng');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByTestId('customer-results').textContent()).toContain('+254712500001');
    await page.context().close();
  });

  it('shows finance the search 25 a page and the customer read-only; the API refuses its actions', async () => {
    const page = await harness.newPage('phone');
    const finance = await harness.signIn(page, 'finance', { hash: 'customers' });
    await page.getByLabel('Phone, account id or name').fill('akinyi');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('tr[data-account]');
    await expect.poll(() => rows.count()).toBe(25);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await expect.poll(() => page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);

    await page.goto(`${harness.consoleUrl}#/customers/${accountId}`);
    await expect.poll(() => balance(page)).toMatch(/ L$/);
    await page.getByTestId('customer-events').getByRole('table').waitFor();
    await expect.poll(() => page.getByTestId('customer-actions').count()).toBe(0);
    await expect.poll(() => page.getByTestId('customer-import').count()).toBe(0);
    await expect.poll(() => page.getByRole('button', { name: 'Reverse' }).count()).toBe(0);
    await harness.screenshot(page, 'console-customer-phone');
    const refused = await finance.request('POST', `/customers/${accountId}/pin-reset`, {});
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('ROLE_FORBIDDEN');
    await page.context().close();
  });
});
