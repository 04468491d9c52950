import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../src/cloud.js';
import { createOperator } from '../src/console/operator-accounts.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { signInAs, TEST_OPERATOR_PASSWORD, type ConsoleSession } from './console-session.js';

// Issue 12 §1: the Operators page's API — passwords an admin resets and each operator changes.
describe.each(backends())('console operators and passwords, on $name', (backend) => {
  let cloud: RunningCloud;
  let admin: ConsoleSession;
  beforeAll(async () => {
    cloud = await startTestCloud(backend);
    admin = await signInAs(cloud, 'admin', 'root-admin');
  });
  afterAll(() => stopTestCloud(cloud, backend));

  const signIn = (username: string, password: string) =>
    fetch(`${cloud.url}/console/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });

  it('lets any operator change their own password with the current one, ending their other sessions', async () => {
    const here = await signInAs(cloud, 'finance', 'akinyi');
    const elsewhere = await signInAs(cloud, 'finance', 'akinyi');

    const wrong = await here.request('POST', '/session/password', {
      current_password: 'not-the-password',
      new_password: 'a-new-long-password',
    });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ code: 'WRONG_PASSWORD' });
    const short = await here.request('POST', '/session/password', {
      current_password: TEST_OPERATOR_PASSWORD,
      new_password: 'short',
    });
    expect(short.status).toBe(400);
    expect(await short.json()).toMatchObject({ code: 'WEAK_PASSWORD' });
    expect((await here.request('GET', '/session')).status).toBe(200);
    expect((await elsewhere.request('GET', '/session')).status).toBe(200);

    const changed = await here.request('POST', '/session/password', {
      current_password: TEST_OPERATOR_PASSWORD,
      new_password: 'a-new-long-password',
    });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toEqual({ username: 'akinyi', role: 'finance' });
    expect((await here.request('GET', '/session')).status).toBe(200);
    expect((await elsewhere.request('GET', '/session')).status).toBe(401);
    expect((await signIn('akinyi', TEST_OPERATOR_PASSWORD)).status).toBe(401);
    expect((await signIn('akinyi', 'a-new-long-password')).status).toBe(200);
    const audit = await cloud.db.query<{ action: string }>(
      "SELECT action FROM audit_log WHERE actor = 'akinyi' AND action LIKE 'operator.password%'",
    );
    expect(audit.map((row) => row.action)).toEqual(['operator.password_change']);
  });

  it('ends the sessions of an operator whose password an admin resets, and audits it', async () => {
    const field = await signInAs(cloud, 'field', 'kamau');
    expect((await field.request('GET', '/session')).status).toBe(200);
    const reset = await admin.request('POST', '/operators/kamau/password', { password: 'reset-by-admin-1' });
    expect(reset.status).toBe(200);
    expect((await field.request('GET', '/session')).status).toBe(401);
    expect((await signIn('kamau', 'reset-by-admin-1')).status).toBe(200);
    const [entry] = await cloud.db.query<{ actor: string; subject: string }>(
      "SELECT actor, subject FROM audit_log WHERE action = 'operator.password_reset'",
    );
    expect(entry).toEqual({ actor: 'root-admin', subject: 'kamau' });
  });

  it('refuses an admin disabling their own account, and changes nothing', async () => {
    const refused = await admin.request('POST', '/operators/root-admin/disabled', { disabled: true });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'OWN_ACCOUNT' });
    const { operators } = await admin.json<{ operators: { username: string; disabled: boolean }[] }>(
      'GET',
      '/operators',
    );
    expect(operators.find((o) => o.username === 'root-admin')?.disabled).toBe(false);
  });

  it('shows each operator’s last successful sign-in, null before the first and untouched by a failed one', async () => {
    type Listed = { username: string; last_sign_in_at: number | null };
    const lastSignIn = async (username: string) =>
      (await admin.json<{ operators: Listed[] }>('GET', '/operators')).operators.find((o) => o.username === username)
        ?.last_sign_in_at;
    await createOperator(cloud.db, { username: 'baraka', role: 'field', password: TEST_OPERATOR_PASSWORD });
    expect(await lastSignIn('baraka')).toBeNull();
    expect((await signIn('baraka', 'not-the-password')).status).toBe(401);
    expect(await lastSignIn('baraka')).toBeNull();

    const before = Date.now();
    expect((await signIn('baraka', TEST_OPERATOR_PASSWORD)).status).toBe(200);
    const first = await lastSignIn('baraka');
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(Date.now());
    expect((await signIn('baraka', 'not-the-password')).status).toBe(401);
    expect(await lastSignIn('baraka')).toBe(first);
    expect((await signIn('baraka', TEST_OPERATOR_PASSWORD)).status).toBe(200);
    expect(await lastSignIn('baraka')).toBeGreaterThanOrEqual(first!);

    // In the API's published schema, as a nullable integer.
    const doc = (await (await fetch(`${cloud.url}/openapi.json`)).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content: Record<string, { schema: unknown }> }> } }>;
    };
    const listed = JSON.stringify(doc.paths['/console/api/operators']?.get?.responses['200']);
    expect(listed).toMatch(/"last_sign_in_at":\{[^}]*"integer"/);
    expect(listed).toMatch(/"required":\[[^\]]*"last_sign_in_at"/);
  });
});
