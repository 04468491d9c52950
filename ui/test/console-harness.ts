/**
 * The operations console in headless Chromium against a real cloud (PGlite), for the console's
 * test files: the console built once per file into a temp dir, one cloud serving it, one browser.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { build } from 'vite';
import type { CloudOptions, RunningCloud } from '@tusafishe/cloud';
import { backends, signInAs, startTestCloud, stopTestCloud, type ConsoleSession } from '@tusafishe/cloud/testing';

const CONSOLE_CONFIG = fileURLToPath(new URL('../console/vite.config.ts', import.meta.url));
const SCREENSHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const VIEWPORTS = { phone: { width: 390, height: 844 }, desktop: { width: 1366, height: 768 } } as const;
/** How long a page waits for an element or a state: generous, Chromium on a loaded machine is slow. */
const WAIT_MS = 30_000;
type Role = ConsoleSession['role'];

export interface ConsoleHarness {
  cloud: RunningCloud;
  browser: Browser;
  /** `http://127.0.0.1:<port>/console/` */
  consoleUrl: string;
  /** A fresh browser context (own cookies) at a phone or desktop size. */
  newPage(viewport?: keyof typeof VIEWPORTS): Promise<Page>;
  /**
   * Signs `page` in as an operator of `role` (made if missing, password TEST_OPERATOR_PASSWORD)
   * without the form, opens `#/<hash>` and answers the API session for direct calls.
   */
  signIn(page: Page, role: Role, options?: { username?: string; hash?: string }): Promise<ConsoleSession>;
  /** Saves a screenshot to artifacts/screenshots/ (gitignored), or to `dir` when given (e.g. ui/docs). */
  screenshot(page: Page, name: string, dir?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleHarness(options: CloudOptions = {}): Promise<ConsoleHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-console-'));
  const distDir = join(dir, 'console-dist');
  await Promise.all([
    build({ configFile: CONSOLE_CONFIG, logLevel: 'silent', build: { outDir: distDir, emptyOutDir: true } }),
    mkdir(SCREENSHOTS, { recursive: true }),
  ]);
  const backend = backends()[0]!;
  const cloud = await startTestCloud(backend, { ...options, console: { distDir, ...options.console } });
  const browser = await launchChromium();
  const consoleUrl = `${cloud.url}/console/`;
  return {
    cloud,
    browser,
    consoleUrl,
    async newPage(viewport = 'phone') {
      const context = await browser.newContext({ viewport: VIEWPORTS[viewport], deviceScaleFactor: 1 });
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      return page;
    },
    async signIn(page, role, signInOptions = {}) {
      const session = await signInAs(cloud, role, signInOptions.username);
      await page
        .context()
        .addCookies([{ name: 'tusafishe_console', value: session.cookieValue, url: cloud.url, httpOnly: true }]);
      await page.goto(`${consoleUrl}#/${signInOptions.hash ?? ''}`);
      await page.getByTestId('operator').waitFor();
      return session;
    },
    async screenshot(page, name, into = SCREENSHOTS) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(into, `${name}.png`), fullPage: false });
    },
    async close() {
      await browser.close().catch(() => undefined);
      await stopTestCloud(cloud, backend);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
