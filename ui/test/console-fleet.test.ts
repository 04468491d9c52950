/** The console's kiosks and alerts pages in Chromium: live status, alerts and dispenses, acknowledging, roles. */
import { newId, type KioskStatusReport, type LedgerEvent } from '@tusafishe/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, createKiosk, recordAdjustment } from '@tusafishe/cloud';
import { startConsoleHarness, type ConsoleHarness } from './console-harness.js';

describe('console kiosks and alerts in Chromium', () => {
  let harness: ConsoleHarness;
  let kiosk: (path: string, body: unknown) => Promise<Response>;

  beforeAll(async () => {
    harness = await startConsoleHarness({ fleet: { rulesIntervalMs: 0 } });
    const { secret } = await createKiosk(harness.cloud.db, { kioskId: 'K7', name: 'Kibera 7' });
    const authorization = `Basic ${Buffer.from(`K7:${secret}`).toString('base64')}`;
    kiosk = (path, body) =>
      fetch(`${harness.cloud.url}${path}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const status: KioskStatusReport = {
      at: Date.now(),
      gateway_version: '0.1.0',
      events_waiting: 0,
      dispensers: [
        { dispenser_id: 'D1', online: true, firmware: 'tusafishe-fw/0.1.0', last_seen_at: Date.now() },
        { dispenser_id: 'D2', online: false, firmware: 'tusafishe-fw/0.1.0', last_seen_at: Date.now() - 60_000 },
      ],
      tank_level_pct: 64,
      water_quality: 'ok',
      auth_counts: [],
    };
    expect((await kiosk('/kiosk/v1/status', status)).status).toBe(200);
  });
  afterAll(() => harness?.close());

  const push = (events: LedgerEvent[]) => kiosk('/kiosk/v1/events', { events });

  it('shows field the fleet, a new alert and a dispense live, and lets them acknowledge it', async () => {
    const page = await harness.newPage('desktop');
    await harness.signIn(page, 'field', { hash: 'kiosks' });
    const row = page.locator('tr[data-kiosk="K7"]');
    await expect.poll(() => row.textContent()).toContain('online');
    await expect.poll(() => row.textContent()).toContain('1/2');
    await expect.poll(() => row.textContent()).toContain('64 %');
    await page.getByTestId('firmware').waitFor();

    // A dispense recorded at the kiosk appears in the open page's feed without a reload.
    const customer = await createCustomer(harness.cloud.db, { phone: '+254711222333', name: 'Live Feed', pin: '4321' });
    await recordAdjustment(harness.cloud.db, {
      accountId: customer.account_id,
      amountMl: 20_000,
      reason: 'test',
      operator: 'test',
    });
    const dispense: LedgerEvent = {
      event_id: newId(),
      type: 'dispense',
      account_id: customer.account_id,
      amount_ml: -5_000,
      kiosk_id: 'K7',
      dispenser_id: 'D1',
      source_id: newId(),
      occurred_at: Date.now(),
    };
    expect((await push([dispense])).status).toBe(200);
    await expect
      .poll(() => page.getByTestId('dispense-feed').textContent(), { timeout: 15_000 })
      .toContain('K7/D1 · 5 L');
    // artifacts/screenshots/ (the README's pictures are made by npm run screenshots).
    await harness.screenshot(page, 'console-kiosks-desktop');

    await page.goto(`${harness.consoleUrl}#/alerts`);
    await page.getByTestId('no-alerts').waitFor();
    const occurrence = newId();
    await push([
      {
        event_id: newId(),
        type: 'alert_raised',
        amount_ml: 0,
        kiosk_id: 'K7',
        source_id: occurrence,
        occurred_at: Date.now(),
        details: { alert: 'tank_low', severity: 'critical', message: 'Tank low: 8% (low mark 15%)' },
      },
    ]);
    const alert = page.locator(`[data-alert="${occurrence}"]`);
    await alert.waitFor({ timeout: 15_000 });
    await expect.poll(() => alert.textContent()).toContain('Tank low: 8%');
    await alert.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => alert.textContent()).toContain('Acknowledged by field');
    await page.context().close();
  });

  it('shows finance and customer service the kiosks and alerts read-only', async () => {
    for (const role of ['finance', 'customer_service'] as const) {
      const page = await harness.newPage('phone');
      await harness.signIn(page, role, { hash: 'alerts' });
      await page.locator('[data-rule="tank_low"]').waitFor();
      await expect.poll(() => page.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
      if (role === 'finance') await harness.screenshot(page, 'console-alerts-phone');
      await page.goto(`${harness.consoleUrl}#/kiosks/K7`);
      await expect.poll(() => page.getByTestId('litres-today').textContent()).toBe('5 L');
      await page.goto(`${harness.consoleUrl}#/kiosks`);
      await page.locator('tr[data-kiosk="K7"]').waitFor();
      await expect.poll(() => page.getByTestId('firmware').count()).toBe(0);
      await page.context().close();
    }
  });
});
