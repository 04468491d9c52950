/** The operations console's shell in Chromium: sign-in, and the sections each role is offered. */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_OPERATOR_PASSWORD } from '@tusafishe/cloud/testing';
import { startConsoleHarness, type ConsoleHarness } from './console-harness.js';

describe('operations console shell in Chromium', () => {
  let harness: ConsoleHarness;
  beforeAll(async () => {
    harness = await startConsoleHarness();
  });
  afterAll(() => harness?.close());

  const navLabels = async (page: Page): Promise<string[]> =>
    (await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents()).map((t) => t.trim());

  it('refuses a wrong password, signs in with the right one, and signs out', async () => {
    const page = await harness.newPage('phone');
    await harness.signIn(page, 'field', { username: 'otieno' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username').fill('otieno');
    await page.getByLabel('Password').fill('not-my-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('wrong username or password');
    await page.getByLabel('Password').fill(TEST_OPERATOR_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('operator').textContent()).toContain('otieno · Field');
    await page.context().close();
  });

  it('offers each role only its sections, and admin all of them', async () => {
    const expected = {
      field: ['Kiosks', 'Alerts', 'Analytics', 'Reports'],
      customer_service: ['Kiosks', 'Alerts', 'Customers'],
      finance: ['Kiosks', 'Alerts', 'Customers', 'Analytics', 'Reports'],
      admin: ['Kiosks', 'Alerts', 'Customers', 'Analytics', 'Reports', 'Operators'],
    } as const;
    for (const [role, labels] of Object.entries(expected)) {
      const page = await harness.newPage('desktop');
      await harness.signIn(page, role as keyof typeof expected);
      expect(await navLabels(page), role).toEqual(labels);
      if (role !== 'admin') {
        await page.goto(`${harness.consoleUrl}#/operators`);
        await page.getByText('not available for your role').waitFor();
      }
      await page.context().close();
    }
  });
});
