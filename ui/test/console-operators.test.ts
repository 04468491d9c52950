/**
 * The console's shell, operators and roles in Chromium (issue 12 §1): sign-in and sign-out; each
 * demo operator signs in through the form,
 * sees only its sections, and is refused (403) every state-changing call of the other roles,
 * read from the cloud's OpenAPI document so a new route is covered without touching this file;
 * an admin manages accounts on the Operators page; anyone changes their own password.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_OPERATOR_PASSWORD, DEMO_OPERATORS, seedDemo } from '@tusafishe/cloud';
import { TEST_OPERATOR_PASSWORD } from '@tusafishe/cloud/testing';
import { startConsoleHarness, type ConsoleHarness } from './console-harness.js';

type Role = (typeof DEMO_OPERATORS)[number]['role'];
interface StateChange {
  method: string;
  path: string;
  roles: string[];
}

const SECTIONS: Record<Role, string[]> = {
  admin: ['Kiosks', 'Alerts', 'Customers', 'Analytics', 'Reports', 'Operators'],
  customer_service: ['Kiosks', 'Alerts', 'Customers'],
  finance: ['Kiosks', 'Alerts', 'Customers', 'Analytics', 'Reports'],
  field: ['Kiosks', 'Alerts', 'Analytics', 'Reports'],
};
const LABELS: Record<Role, string> = {
  admin: 'Admin',
  customer_service: 'Customer service',
  finance: 'Finance',
  field: 'Field',
};

describe('console shell, operators and roles in Chromium', () => {
  let harness: ConsoleHarness;
  /** Every non-GET console route but the session's own, with the roles its OpenAPI description names. */
  let stateChanges: StateChange[];

  beforeAll(async () => {
    harness = await startConsoleHarness();
    await seedDemo(harness.cloud.db, { kioskId: 'K1', kioskSecret: 'dev-kiosk-secret' });
    const doc = (await (await fetch(`${harness.cloud.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { description?: string }>>;
    };
    stateChanges = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/console/api/') && !path.startsWith('/console/api/session'))
      .flatMap(([path, methods]) =>
        Object.entries(methods)
          .filter(([method]) => method !== 'get')
          .map(([method, op]) => ({
            method: method.toUpperCase(),
            path: path.replace(/\{[^}]+\}/g, 'TS1234'),
            roles: /Roles: ([^.]*)\./.exec(op.description ?? '')?.[1]?.split(', ') ?? [],
          })),
      );
  });
  afterAll(() => harness?.close());

  const navLabels = async (page: Page): Promise<string[]> =>
    (await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents()).map((t) => t.trim());

  /** Sends each call from the signed-in page (its cookie, its Origin), as a script in the console could. */
  const callFromPage = (page: Page, calls: StateChange[]) =>
    page.evaluate(
      (list) =>
        Promise.all(
          list.map(async ({ method, path }) => {
            const response = await fetch(path, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
            const body = (await response.json()) as { code?: string };
            return `${method} ${path} → ${response.status} ${body.code}`;
          }),
        ),
      calls,
    );

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

  it.each(DEMO_OPERATORS)(
    '$role: signs in on the form, sees its sections, is refused the others’ changes',
    async ({ username, role }) => {
      const page = await harness.newPage('desktop');
      await page.goto(harness.consoleUrl);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(DEMO_OPERATOR_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByTestId('operator').textContent()).toBe(`${username} · ${LABELS[role]}`);
      expect(await navLabels(page)).toEqual(SECTIONS[role]);
      if (role !== 'admin') {
        await page.goto(`${harness.consoleUrl}#/operators`);
        await page.getByText('not available for your role').waitFor();
      }

      const others = stateChanges.filter((call) => !call.roles.includes(role));
      if (role === 'admin') expect(others).toEqual([]);
      else expect(others.length).toBeGreaterThan(3);
      const answers = await callFromPage(page, others);
      expect(answers).toEqual(others.map(({ method, path }) => `${method} ${path} → 403 ROLE_FORBIDDEN`));
      await page.context().close();
    },
  );

  it('lets an admin add, disable, enable an operator and set their password (ending their sessions)', async () => {
    const page = await harness.newPage('desktop');
    await harness.signIn(page, 'admin', { username: 'amina', hash: 'operators' });
    const row = (username: string) => page.locator(`tr[data-operator="${username}"]`);
    await expect.poll(() => row('amina').textContent()).toContain('(you)');
    await expect.poll(() => row('amina').getByRole('button', { name: 'Disable' }).count()).toBe(0);
    await expect.poll(() => row('support').textContent()).toContain('Customer service');

    // The form checks length and repetition before sending; nothing is added.
    const add = page.getByRole('region', { name: 'Add an operator' });
    await add.getByLabel('Username').fill('neema');
    await add.getByLabel('Role').selectOption('field');
    await add.getByLabel('New password', { exact: true }).fill('too-short');
    await add.getByLabel('New password again').fill('too-short');
    await add.getByRole('button', { name: 'Add operator' }).click();
    await expect.poll(() => add.getByRole('alert').textContent()).toContain('at least 10 characters');
    await add.getByLabel('New password', { exact: true }).fill('neema-password-1');
    await add.getByLabel('New password again').fill('neema-password-2');
    await add.getByRole('button', { name: 'Add operator' }).click();
    await expect.poll(() => add.getByRole('alert').textContent()).toContain('differ');
    await expect.poll(() => row('neema').count()).toBe(0);

    await add.getByLabel('New password again').fill('neema-password-1');
    await add.getByRole('button', { name: 'Add operator' }).click();
    await expect.poll(() => add.getByRole('status').textContent()).toContain('neema (Field) may now sign in');
    await expect.poll(() => row('neema').textContent()).toContain('active');
    // Never signed in yet (a wrong password is no sign-in).
    const lastSignIn = (username: string) => row(username).locator('td.last-sign-in').textContent();
    await expect.poll(() => lastSignIn('neema')).toBe('never');
    await expect.poll(() => lastSignIn('amina')).toMatch(/ago$/);
    expect(await signIn('neema', 'not-her-password')).toBe(401);
    expect(await signIn('neema', 'neema-password-1')).toBe(200);

    // The list the Disable answers shows her sign-in.
    await row('neema').getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => row('neema').textContent()).toContain('disabled');
    await expect.poll(() => lastSignIn('neema')).toMatch(/^\d+ (s|min) ago$/);
    expect(await signIn('neema', 'neema-password-1')).toBe(401);
    await row('neema').getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => row('neema').textContent()).toContain('active');

    // A new password for `field`: their open session ends at once.
    const fieldCookie = await signInCookie('field', DEMO_OPERATOR_PASSWORD);
    expect(await sessionStatus(fieldCookie)).toBe(200);
    await row('field').getByRole('button', { name: 'Set password' }).click();
    const reset = page.getByRole('region', { name: 'New password for field' });
    await reset.getByLabel('New password', { exact: true }).fill('field-new-password');
    await reset.getByLabel('New password again').fill('field-new-password');
    await reset.getByRole('button', { name: 'Save password' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('field has a new password');
    expect(await sessionStatus(fieldCookie)).toBe(401);
    expect(await signIn('field', 'field-new-password')).toBe(200);
    const audit = await harness.cloud.db.query<{ action: string; subject: string }>(
      "SELECT action, subject FROM audit_log WHERE actor = 'amina' AND action LIKE 'operator.%' ORDER BY id",
    );
    expect(audit.map((a) => `${a.action} ${a.subject}`)).toEqual([
      'operator.sign_in amina',
      'operator.add neema',
      'operator.disable neema',
      'operator.enable neema',
      'operator.password_reset field',
    ]);
    await page.context().close();
  });

  it('lets any operator change their own password from the header, staying signed in', async () => {
    const page = await harness.newPage('phone');
    await harness.signIn(page, 'finance', { username: 'wanjiku' });
    await page.getByTestId('operator').click();
    const form = page.getByRole('region', { name: 'My password' });
    await form.getByLabel('Current password').fill('not-my-password');
    await form.getByLabel('New password', { exact: true }).fill('wanjiku-new-password');
    await form.getByLabel('New password again').fill('wanjiku-new-password');
    await form.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('current password is wrong');

    await form.getByLabel('Current password').fill(TEST_OPERATOR_PASSWORD);
    await form.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => form.getByRole('status').textContent()).toContain('Password changed');
    await page.reload();
    await expect.poll(() => page.getByTestId('operator').textContent()).toContain('wanjiku');
    expect(await signIn('wanjiku', TEST_OPERATOR_PASSWORD)).toBe(401);
    expect(await signIn('wanjiku', 'wanjiku-new-password')).toBe(200);
    await page.context().close();
  });

  const signInResponse = (username: string, password: string) =>
    fetch(`${harness.cloud.url}/console/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  const signIn = async (username: string, password: string) => (await signInResponse(username, password)).status;
  const signInCookie = async (username: string, password: string) =>
    ((await signInResponse(username, password)).headers.get('set-cookie') ?? '').split(';')[0]!;
  const sessionStatus = async (cookie: string) =>
    (await fetch(`${harness.cloud.url}/console/api/session`, { headers: { cookie } })).status;
});
