/**
 * `npm run screenshots`: every page of the operations console at phone (390×844) and desktop
 * (1280×800) sizes, written to ui/docs/console/ (tracked; ui/README.md shows them). It starts a
 * demo cloud (the `npm start` demo: operators, kiosk K1 and its customers) with thirty days of
 * dispenses, payments, kiosk status and alerts sent the way gateways send them, builds the console,
 * and signs each demo operator in through the form. Tests never write tracked files; this does,
 * on purpose, when run.
 */
import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createCustomer, createKiosk, DEMO_OPERATOR_PASSWORD, recordAdjustment, seedDemo } from '@tusafishe/cloud';
import { newId, type KioskStatusReport, type LedgerEvent } from '@tusafishe/protocol';
import { startConsoleHarness, type ConsoleHarness } from '../test/console-harness.js';

const OUT_DIR = fileURLToPath(new URL('../docs/console/', import.meta.url));
const VIEWPORTS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } } as const;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const DEMO_KIOSK = { kioskId: 'K1', kioskSecret: 'dev-kiosk-secret' };

/** A gateway's calls to the cloud's kiosk API (`/kiosk/v1/…`), with its credential. */
function kioskApi(cloudUrl: string, kioskId: string, secret: string) {
  const authorization = `Basic ${Buffer.from(`${kioskId}:${secret}`).toString('base64')}`;
  return async (path: string, body: unknown): Promise<void> => {
    const response = await fetch(`${cloudUrl}/kiosk/v1/${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${kioskId} ${path}: ${response.status} ${await response.text()}`);
  };
}

/**
 * Thirty days at three kiosks (K3 never reports: offline), a few customers with names, two open
 * alerts; answers a call that records one more dispense at K1, for the live feed.
 */
async function seedFleet(harness: ConsoleHarness): Promise<() => Promise<void>> {
  const { db, url } = harness.cloud;
  const demo = await seedDemo(db, DEMO_KIOSK);
  const k2 = await createKiosk(db, { kioskId: 'K2', name: 'Kibera market' });
  await createKiosk(db, { kioskId: 'K3', name: 'Mathare north' });
  const kiosks = { K1: kioskApi(url, 'K1', DEMO_KIOSK.kioskSecret), K2: kioskApi(url, 'K2', k2.secret) };

  const named = ['Amina Achieng', 'Brian Otieno', 'Grace Nakato', 'Joseph Mwangi', 'Faith Wanjiru'];
  const accounts = demo.customers.filter((c) => c.status !== 'inactive').map((c) => c.accountId);
  for (const [i, name] of named.entries())
    accounts.unshift((await createCustomer(db, { phone: `+2547110000${10 + i}`, name, pin: '2580' })).account_id);
  // Enough credit for the thirty days below.
  for (const accountId of accounts)
    await recordAdjustment(db, { accountId, amountMl: 800_000, reason: 'demo credit', operator: 'seed' });

  const now = Date.now();
  for (const [kioskId, push] of Object.entries(kiosks)) {
    const events: LedgerEvent[] = [];
    for (let day = 29; day >= 0; day -= 1)
      for (const [i, accountId] of accounts.entries()) {
        if ((day + i) % (kioskId === 'K1' ? 2 : 3) !== 0) continue;
        events.push({
          event_id: newId(),
          type: 'dispense',
          account_id: accountId,
          amount_ml: -(10_000 + ((i * 7 + day * 3) % 5) * 5_000),
          kiosk_id: kioskId,
          dispenser_id: i % 2 === 0 ? 'D1' : 'D2',
          source_id: newId(),
          occurred_at: now - day * DAY_MS - (i * 53 + 30) * 60_000,
        });
      }
    await push('events', { events });
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const status: KioskStatusReport = {
      at: now,
      gateway_version: '0.1.0',
      events_waiting: kioskId === 'K1' ? 0 : 3,
      dispensers: ['D1', 'D2'].map((id) => ({
        dispenser_id: id,
        online: kioskId === 'K1' || id === 'D1',
        firmware: 'tusafishe-fw/0.1.0',
        last_seen_at: now - (id === 'D1' ? 5_000 : 40 * 60_000),
      })),
      tank_level_pct: kioskId === 'K1' ? 64 : 12,
      water_quality: 'ok',
      auth_counts: Array.from({ length: 24 }, (_, h) => [
        { hour: hour - h * HOUR_MS, outcome: 'approved', count: 6 + (h % 5) },
        { hour: hour - h * HOUR_MS, outcome: 'WRONG_PIN', count: h % 3 },
        { hour: hour - h * HOUR_MS, outcome: 'INSUFFICIENT_BALANCE', count: h % 4 === 0 ? 1 : 0 },
      ]).flat(),
    };
    await push('status', status);
  }
  await kiosks.K2('events', {
    events: [
      alert('K2', 'tank_low', 'warning', 'Tank low: 12% (low mark 15%)', now - 25 * 60_000),
      alert('K2', 'uv_fault', 'critical', 'UV lamp current 0 mA: dispensing blocked', now - 8 * 60_000),
    ],
  });
  // Top-ups as settled mobile-money payments (the analytics' revenue per provider).
  await db.query(
    `INSERT INTO payments (payment_id, provider, account_id, phone, amount_minor, currency, status, settled_at)
     SELECT gen_random_uuid(), p, a, '+256772000001', amount, currency, 'successful', now() - d * interval '1 day'
       FROM unnest($1::text[]) a, generate_series(0, 12, 3) d,
            (VALUES ('mtn', 5000, 'UGX'), ('mpesa', 12550, 'KES'), ('airtel', 3000, 'UGX')) AS t(p, amount, currency)`,
    [accounts.slice(0, 4)],
  );
  return () =>
    kiosks.K1('events', {
      events: [
        {
          event_id: newId(),
          type: 'dispense',
          account_id: accounts[0]!,
          amount_ml: -20_000,
          kiosk_id: 'K1',
          dispenser_id: 'D1',
          source_id: newId(),
          occurred_at: Date.now(),
        },
      ],
    });
}

function alert(kioskId: string, rule: string, severity: string, message: string, at: number): LedgerEvent {
  return {
    event_id: newId(),
    type: 'alert_raised',
    amount_ml: 0,
    kiosk_id: kioskId,
    source_id: newId(),
    occurred_at: at,
    details: { alert: rule, severity, message },
  };
}

interface Shot {
  name: string;
  hash: string;
  /** Resolves when the page shows what the picture is for. */
  ready(page: Page): Promise<unknown>;
}

/** Which operator shows which pages (the role each page is made for); `dispense` records one at K1. */
const shotsOf = (dispense: () => Promise<void>): { username: string; shots: Shot[] }[] => [
  {
    username: 'field',
    shots: [
      {
        name: 'kiosks',
        hash: 'kiosks',
        async ready(p) {
          await p.locator('tr[data-kiosk="K3"]').waitFor();
          // The page listens to the live feed from here on: a dispense now shows in it.
          await dispense();
          await p.getByTestId('dispense-feed').locator('li').first().waitFor();
        },
      },
      { name: 'kiosk-detail', hash: 'kiosks/K2', ready: (p) => p.getByTestId('litres-today').waitFor() },
      { name: 'alerts', hash: 'alerts', ready: (p) => p.locator('[data-rule="uv_fault"]').waitFor() },
    ],
  },
  {
    username: 'support',
    shots: [
      {
        name: 'customers',
        hash: 'customers',
        async ready(p) {
          await p.getByLabel('Phone, account id or name').fill('TS');
          await p.getByRole('button', { name: 'Search' }).click();
          await p.getByRole('link', { name: 'Download CSV' }).waitFor();
        },
      },
      { name: 'customer-detail', hash: 'customers/TSF000101', ready: (p) => p.getByTestId('balance').waitFor() },
      { name: 'my-password', hash: 'password', ready: (p) => p.getByLabel('Current password').waitFor() },
    ],
  },
  {
    username: 'finance',
    shots: [
      {
        name: 'analytics',
        hash: 'analytics',
        ready: (p) =>
          p.getByRole('img', { name: 'Litres per day' }).locator('rect:not([height="0"])').first().waitFor(),
      },
      { name: 'reports', hash: 'reports', ready: (p) => p.getByRole('link', { name: 'Open PDF' }).waitFor() },
    ],
  },
  {
    username: 'admin',
    shots: [{ name: 'operators', hash: 'operators', ready: (p) => p.locator('tr[data-operator="field"]').waitFor() }],
  },
];

async function signInByForm(page: Page, consoleUrl: string, username: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(DEMO_OPERATOR_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('operator').waitFor();
}

async function shoot(
  harness: ConsoleHarness,
  shots: ReturnType<typeof shotsOf>,
  viewport: keyof typeof VIEWPORTS,
): Promise<string[]> {
  const written: string[] = [];
  const take = async (page: Page, name: string) => {
    await harness.screenshot(page, `${name}-${viewport}`, OUT_DIR);
    written.push(`${name}-${viewport}.png`);
  };
  const open = async () => {
    const context = await harness.browser.newContext({ viewport: VIEWPORTS[viewport], deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    return page;
  };
  const signInPage = await open();
  await signInPage.goto(harness.consoleUrl);
  await signInPage.getByLabel('Username').waitFor();
  await take(signInPage, 'sign-in');
  await signInPage.context().close();
  for (const { username, shots: pages } of shots) {
    const page = await open();
    await signInByForm(page, harness.consoleUrl, username);
    for (const shot of pages) {
      await page.goto(`${harness.consoleUrl}#/${shot.hash}`);
      await shot.ready(page);
      await take(page, shot.name);
    }
    await page.context().close();
  }
  return written;
}

const harness = await startConsoleHarness({ fleet: { rulesIntervalMs: 0 } });
try {
  const shots = shotsOf(await seedFleet(harness));
  await rm(OUT_DIR, { recursive: true, force: true });
  await mkdir(OUT_DIR, { recursive: true });
  for (const viewport of ['phone', 'desktop'] as const) {
    const written = await shoot(harness, shots, viewport);
    console.log(`${viewport}: ${written.join(' ')}`);
  }
  console.log(`written to ${OUT_DIR}`);
} finally {
  await harness.close();
}
