/**
 * The technicians' UI in real headless Chromium against a real gateway composed as main.ts
 * composes it (`kioskExtensions`: sync, simulated hardware, firmware updates, the technician
 * API with the log ring) and simulated dispensers speaking MQTT.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectMqtt,
  demoPassword,
  startTestGateway,
  TestDispenser,
  type TestGateway,
} from '@tusafishe/gateway/testing';
import { createLogger, kioskExtensions, LogRing } from '@tusafishe/gateway';
import { startSimulatedDispenser, type SimulatedDispenser } from '@tusafishe/dispenser-firmware/host';
import { generateReleaseKey, signFirmware } from '@tusafishe/protocol/signed-firmware';

const UI_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCREENSHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const USERNAME = 'otieno';
const PASSWORD = 'fix-the-kiosk-42';
/** How long a page waits for an element or a state: generous, Chromium on a loaded machine is slow. */
const WAIT_MS = 30_000;
/** The test fleet's release key: the gateway and the simulated dispensers trust its public half. */
const RELEASE = generateReleaseKey();
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1366, height: 768 };

describe('technician UI in Chromium', () => {
  let dir: string;
  let gateway: TestGateway;
  let browser: Browser;
  let phone: BrowserContext;
  let page: Page;
  let d1: SimulatedDispenser;
  let d2: SimulatedDispenser;
  let baseUrl: string;

  const dispenser = (id: string, meterPulsesPerLitre: number) =>
    startSimulatedDispenser({
      id,
      password: demoPassword(gateway, id),
      mqttUrl: `mqtt://127.0.0.1:${gateway.mqttPort}`,
      dataDir: join(dir, 'dispensers', id),
      flowRateMlPerSecond: 2000,
      meterPulsesPerLitre,
      releasePublicKey: RELEASE.publicKey,
    });

  async function screenshot(target: Page, name: string): Promise<void> {
    await target.evaluate(() => window.scrollTo(0, 0));
    await target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
  }

  async function signIn(target: Page, password = PASSWORD): Promise<void> {
    await target.getByLabel('Username').fill(USERNAME);
    await target.getByLabel('Password').fill(password);
    await target.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Buys 1 L on the keypad (preset A) and waits for the thank-you screen. */
  async function buyOneLitre(d: SimulatedDispenser, phoneNumber: string): Promise<void> {
    await d.waitForLcd('Enter phone number');
    d.press(`${phoneNumber}#1234#A`);
    await d.waitForLcd('Thank you!', WAIT_MS);
    d.press('#');
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tusafishe-ui-'));
    const uiDistDir = join(dir, 'ui-dist');
    await Promise.all([
      build({ root: UI_ROOT, logLevel: 'silent', build: { outDir: uiDistDir, emptyOutDir: true } }),
      mkdir(SCREENSHOTS, { recursive: true }),
    ]);
    const logs = new LogRing();
    gateway = await startTestGateway({
      dataDir: join(dir, 'gateway'),
      keepDataDir: true,
      logger: createLogger({ level: process.env.TEST_LOG ?? 'silent' }, logs),
      // The field gateway's own composition (main.ts), configured as its environment would.
      extensions: (core) =>
        kioskExtensions(
          core,
          {
            // The simulated kiosk hardware (tank, water quality, pump, UV, modem) over its real protocols.
            HW_MODE: 'simulated',
            HW_MODBUS_POLL_MS: '200',
            HW_MODEM_POLL_MS: '200',
            // No CLOUD_URL: the sync stand-in reports sync disabled, with the events waiting to be pushed.
            TECHNICIAN_USERNAME: USERNAME,
            TECHNICIAN_PASSWORD: PASSWORD,
            FIRMWARE_PUBLIC_KEY: RELEASE.publicKey,
            UI_DIST_DIR: uiDistDir,
          },
          logs,
        ),
    });
    baseUrl = `http://127.0.0.1:${gateway.httpPort}`;
    // D1's meter really gives 500 pulses a litre while the gateway still says 450: it pours short.
    [d1, d2] = await Promise.all([dispenser('D1', 500), dispenser('D2', 450)]);
    await Promise.all([d1.waitFor((d) => d.connected, 'D1 connected'), d2.waitFor((d) => d.connected, 'D2 connected')]);
    browser = await launchChromium();
    phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1 });
    page = await phone.newPage();
    page.setDefaultTimeout(WAIT_MS);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([d1?.stop(), d2?.stop()].map((stop) => stop?.catch(() => undefined)));
    await gateway?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password and signs in with the right one', async () => {
    await page.goto(baseUrl);
    await signIn(page, 'not-my-password');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('wrong username or password');
    await signIn(page);
    await page.getByTestId('dispenser-D1').waitFor();
    await page.waitForSelector('[data-testid="live-state"]:has-text("live")');
    await page.waitForSelector('[data-testid="dispenser-D1"][data-online="true"]');
    await page.waitForSelector('[data-testid="dispenser-D2"][data-online="true"]');
  });

  it('shows a dispense made on a keypad in the live feed without reloading', async () => {
    await page.goto(`${baseUrl}/#/feed`);
    await page.getByText('Waiting for dispenses').waitFor();
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await buyOneLitre(d1, '0700000101');
    await page.getByTestId('feed-dispense').filter({ hasText: 'TSF000101' }).waitFor();
    await expect.poll(() => page.getByTestId('feed-dispense').first().textContent()).toMatch(/1 L\s+D1 · TSF000101/);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await screenshot(page, 'phone-live-feed');
  });

  it('shows a dispenser that loses power as offline', async () => {
    await page.goto(`${baseUrl}/#/overview`);
    await page.waitForSelector('[data-testid="dispenser-D2"][data-online="true"]');
    await d2.powerCut();
    await page.waitForSelector('[data-testid="dispenser-D2"][data-online="false"]');
    await page.waitForSelector('[data-testid="dispenser-D1"][data-online="true"]');
    await expect.poll(() => page.getByTestId('tank-level').textContent()).toMatch(/^\d+ %$/);
    // Waiting: the dispense, and the simulated hardware's alert notices, all in the ledger.
    const waiting = () => gateway.store.ledger.unacknowledged(1000).length;
    await expect
      .poll(async () => {
        const card = (await page.getByTestId('sync').textContent())?.replace(/\s+/g, ' ') ?? '';
        return /Link ?disabled/.test(card) && new RegExp(`Events ?waiting ?${waiting()}\\b`).test(card);
      })
      .toBe(true);
    expect(waiting()).toBeGreaterThanOrEqual(1);
    await expect
      .poll(async () => (await page.getByTestId('hardware').textContent())?.replace(/\s+/g, ' '))
      .toContain('-73 dBm · Safaricom');
    await screenshot(page, 'phone-overview');
  });

  it('calibrates a flow meter from a measured dispense, and the next dispense uses the new factor', async () => {
    await page.getByTestId('dispenser-D1').click();
    await expect.poll(() => page.getByTestId('pulses-per-litre').textContent()).toBe('450 pulses/L');
    // The dispenser counted 450 pulses and said 1 L; the jug shows 900 mL.
    expect(d1.pulses).toBe(450);
    await page.getByTestId('use-dispense').first().click();
    await page.getByLabel('What does the jug show? (mL)').fill('900');
    await expect
      .poll(() => page.getByTestId('calibration-preview').textContent())
      .toContain('New factor: 500 pulses per litre');
    await page.getByRole('button', { name: 'Save calibration' }).click();
    await expect
      .poll(() => page.getByTestId('calibration-result').textContent())
      .toContain('now counts 500 pulses per litre (was 450)');
    await expect.poll(() => page.getByTestId('pulses-per-litre').textContent()).toBe('500 pulses/L');
    await screenshot(page, 'phone-dispenser-calibrated');

    await buyOneLitre(d1, '0700000102');
    // 500 pulses now make the litre the customer paid for.
    expect(d1.pulses).toBe(500);
    const recorded = () =>
      gateway.store.ledger
        .eventsFor('TSF000102')
        .filter((event) => event.type === 'dispense')
        .at(-1);
    await expect.poll(recorded, { timeout: WAIT_MS }).toMatchObject({ amount_ml: -1000, details: { pulses: 500 } });
  });

  it("says when a customer's balance is only the last this kiosk knew", async () => {
    // A kiosk that does not follow the customer's balance, and a cloud that cannot answer for it.
    gateway.dispenseFlow.useCustomerLookup(async () => null);
    try {
      await page.goto(`${baseUrl}/#/customers`);
      await page.getByLabel('Phone number or account id').fill('TSF000104');
      await page.getByRole('button', { name: 'Find' }).click();
      await expect
        .poll(() => page.getByTestId('balance-unknown').textContent())
        .toContain('does not follow this customer');
      await screenshot(page, 'phone-customer-balance-unknown');
    } finally {
      gateway.dispenseFlow.useCustomerLookup(null);
    }
    await page.getByRole('button', { name: 'Find' }).click();
    await expect.poll(() => page.getByTestId('balance-unknown').count()).toBe(0);
  });

  it('finds a customer locked out by wrong PINs and unlocks them with a reason', async () => {
    const d3 = await TestDispenser.connect(gateway, 'D3');
    try {
      for (let attempt = 0; attempt < gateway.settings.pinMaxFailures; attempt++) {
        await d3.authorise(d3.request('+254700000103', 1000, '9999'));
      }
      expect(await d3.authorise(d3.request('+254700000103', 1000))).toMatchObject({
        approved: false,
        reason: 'LOCKED_OUT',
      });

      await page.goto(`${baseUrl}/#/customers`);
      await page.getByLabel('Phone number or account id').fill('0700 000 103');
      await page.getByRole('button', { name: 'Find' }).click();
      await expect.poll(() => page.getByTestId('lock-state').textContent()).toContain('locked until');
      await screenshot(page, 'phone-customer-locked');
      await page.getByLabel(/Reason for unlocking/).fill('customer showed national ID');
      await page.getByRole('button', { name: 'Unlock' }).click();
      await expect.poll(() => page.getByTestId('lock-state').textContent()).toBe('not locked');
      await expect.poll(() => page.getByRole('status').textContent()).toContain('can use the keypad again');

      expect(await d3.authorise(d3.request('+254700000103', 1000))).toMatchObject({ approved: true });
      const audit = gateway.store.db
        .prepare("SELECT target, reason FROM technician_audit WHERE action = 'customer_unlock'")
        .all();
      expect(audit).toEqual([{ target: 'TSF000103', reason: 'customer showed national ID' }]);
    } finally {
      await d3.close();
    }
  });

  it('draws usage charts and offers the CSV export', async () => {
    await page.goto(`${baseUrl}/#/charts`);
    await page.getByText('Per dispenser').waitFor();
    await page.locator('.hbar', { hasText: 'D1' }).waitFor();
    await expect.poll(() => page.locator('svg rect.bar').count()).toBe(24);
    const csv = await page.evaluate(async () => (await fetch('/api/transactions.csv')).text());
    expect(csv.split('\r\n').filter((line) => line.includes(',dispense,'))).toHaveLength(2);
    await screenshot(page, 'phone-usage');
  });

  it('uploads a firmware image and updates D1, following the rollout live to confirmed', async () => {
    await page.goto(`${baseUrl}/#/firmware`);
    await page.getByText('No images yet.').waitFor();
    const upload = async (name: string, buffer: Buffer) => {
      await page
        .getByLabel(/Signed firmware file/)
        .setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
      await page.getByRole('button', { name: 'Upload' }).click();
    };
    await upload('dispenser-0.2.0.bin', Buffer.alloc(20_000, 7));
    await expect.poll(() => page.getByRole('status').textContent()).toContain('not a signed firmware file');
    const release = signFirmware(
      Buffer.alloc(20_000, 7),
      { version: 'tusafishe-fw/0.2.0', counter: 2 },
      RELEASE.privateKeyPem,
    );
    await upload('dispenser-0.2.0.tsfw', release.file);
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toContain('Stored tusafishe-fw/0.2.0 (20 KiB), signed release 2');
    await page.getByTestId('firmware-image').filter({ hasText: 'tusafishe-fw/0.2.0' }).waitFor();
    await screenshot(page, 'phone-firmware');

    await page.goto(`${baseUrl}/#/dispensers/D1`);
    await page.getByLabel('Firmware version').selectOption('tusafishe-fw/0.2.0');
    await page.getByRole('button', { name: 'Update' }).click();
    await expect.poll(() => page.getByTestId('rollout-state').textContent(), { timeout: WAIT_MS }).toBe('confirmed');
    await page.getByText('tusafishe-fw/0.2.0', { exact: true }).first().waitFor();
    await d1.waitForLcd('Enter phone number');
    expect(gateway.store.dispensers.get('D1')?.firmware).toBe('tusafishe-fw/0.2.0');
    await screenshot(page, 'phone-dispenser-updated');
  });

  it('shows a dispenser login refused by the broker on the Logs page', async () => {
    await expect(connectMqtt(gateway.mqttPort, 'D5', 'a-wrong-password')).rejects.toThrow();
    await page.goto(`${baseUrl}/#/logs`);
    const refused = page.getByTestId('log-entry').filter({ hasText: 'broker login refused' }).first();
    await expect.poll(() => refused.textContent()).toContain('username=D5');
    await expect.poll(() => refused.getAttribute('data-level')).toBe('warn');
    await page.getByLabel('Module').selectOption('core');
    await page.getByLabel('Level (and above)').selectOption('error');
    await page.getByText('Nothing logged at this level yet.').waitFor();
    await page.getByLabel('Level (and above)').selectOption('warn');
    await refused.waitFor();
    await expect.poll(() => page.locator('gateway-logs').textContent()).not.toContain('a-wrong-password');
    await screenshot(page, 'phone-logs');
  });

  it('lays the pages out for a laptop too', async () => {
    const laptop = await browser.newContext({ viewport: LAPTOP, deviceScaleFactor: 1 });
    try {
      const wide = await laptop.newPage();
      wide.setDefaultTimeout(WAIT_MS);
      await wide.goto(baseUrl);
      await signIn(wide);
      await wide.waitForSelector('[data-testid="dispenser-D2"][data-online="false"]');
      await screenshot(wide, 'laptop-overview');
      await wide.goto(`${baseUrl}/#/dispensers/D1`);
      await wide.getByTestId('pulses-per-litre').waitFor();
      await screenshot(wide, 'laptop-dispenser');
      await wide.goto(`${baseUrl}/#/charts`);
      await wide.locator('.hbar', { hasText: 'D1' }).waitFor();
      await screenshot(wide, 'laptop-usage');
    } finally {
      await laptop.close();
    }
  });

  it('signs out, after which the API answers 401', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/api/overview')).status);
    expect(status).toBe(401);
  });

  it('refuses every state change described in the OpenAPI document without a session', async () => {
    const spec = (await (await fetch(`${baseUrl}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const changes = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.keys(methods)
        .filter((method) => !['get', 'head', 'options'].includes(method))
        .filter((method) => !(path === '/api/session' && method === 'post'))
        .map((method) => ({ method: method.toUpperCase(), path })),
    );
    expect(changes.length).toBeGreaterThanOrEqual(4);
    const before = gateway.store.dispensers.get('D1')?.config.pulses_per_litre;
    for (const { method, path } of changes) {
      const url = `${baseUrl}${path.replace('{dispenserId}', 'D1').replace('{accountId}', 'TSF000101')}`;
      const body = JSON.stringify({
        reason: 'none',
        measured_ml: 450,
        session_id: crypto.randomUUID(),
        duration_ms: 1000,
      });
      const response = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
    expect(gateway.store.dispensers.get('D1')?.config.pulses_per_litre).toBe(before);
  });
});
