import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../src/cloud.js';
import { createOperator, MAX_FAILED_SIGN_INS, setOperatorDisabled } from '../src/console/operator-accounts.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { signInAs, TEST_OPERATOR_PASSWORD } from './console-session.js';

// Issue 12 §1: operators sign in to the console; every /console/api/ route needs a session and a role.
describe.each(backends())('console sessions and roles, on $name', (backend) => {
  let cloud: RunningCloud;
  beforeAll(async () => {
    cloud = await startTestCloud(backend);
  });
  afterAll(() => stopTestCloud(cloud, backend));

  const signIn = (username: string, password: string, headers: Record<string, string> = {}) =>
    fetch(`${cloud.url}/console/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ username, password }),
    });

  it('signs in with an HttpOnly SameSite=Strict cookie, says who and which role, and signs out', async () => {
    await createOperator(cloud.db, { username: 'wanjiru', role: 'finance', password: TEST_OPERATOR_PASSWORD });
    const response = await signIn('wanjiru', TEST_OPERATOR_PASSWORD);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ username: 'wanjiru', role: 'finance' });
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^tusafishe_console=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\/console/);
    const cookie = setCookie.split(';')[0]!;
    const me = await fetch(`${cloud.url}/console/api/session`, { headers: { cookie } });
    expect(await me.json()).toEqual({ username: 'wanjiru', role: 'finance' });
    const out = await fetch(`${cloud.url}/console/api/session`, {
      method: 'DELETE',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(out.status).toBe(200);
    expect((await fetch(`${cloud.url}/console/api/session`, { headers: { cookie } })).status).toBe(401);
    const audit = await cloud.db.query<{ action: string }>(
      "SELECT action FROM audit_log WHERE actor = 'wanjiru' ORDER BY id",
    );
    expect(audit.map((row) => row.action)).toEqual(['operator.sign_in', 'operator.sign_out']);
  });

  it('answers unknown names and wrong passwords alike, and locks an account after repeated failures', async () => {
    await createOperator(cloud.db, { username: 'guessed', role: 'admin', password: TEST_OPERATOR_PASSWORD });
    const unknown = await signIn('nobody-here', 'whatever-password');
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    for (let i = 0; i < MAX_FAILED_SIGN_INS - 1; i += 1)
      expect((await signIn('guessed', `wrong-password-${i}`)).status).toBe(401);
    const last = await signIn('guessed', 'wrong-password-last');
    expect(last.status).toBe(401);
    const locked = await signIn('guessed', TEST_OPERATOR_PASSWORD);
    expect(locked.status).toBe(423);
    expect(await locked.json()).toMatchObject({ code: 'OPERATOR_LOCKED' });
  });

  it('ends a disabled operator’s sessions and refuses their sign-in', async () => {
    const field = await signInAs(cloud, 'field', 'otieno');
    expect((await field.request('GET', '/session')).status).toBe(200);
    await setOperatorDisabled(cloud.db, 'otieno', true);
    expect((await field.request('GET', '/session')).status).toBe(401);
    expect((await signIn('otieno', TEST_OPERATOR_PASSWORD)).status).toBe(401);
  });

  it('refuses another origin and a state change that is not JSON (CSRF)', async () => {
    const admin = await signInAs(cloud, 'admin', 'origin-admin');
    const crossSite = await fetch(`${cloud.url}/console/api/session`, {
      headers: { cookie: admin.cookie, origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toMatchObject({ code: 'CROSS_ORIGIN' });
    const form = await fetch(`${cloud.url}/console/api/kiosks`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'kiosk_id=EVIL',
    });
    expect(form.status).toBe(415);
    expect(await form.json()).toMatchObject({ code: 'JSON_REQUIRED' });
    const sameOrigin = await fetch(`${cloud.url}/console/api/session`, {
      headers: { cookie: admin.cookie, origin: cloud.url },
    });
    expect(sameOrigin.status).toBe(200);
  });

  it('refuses every state-changing console call to each role its route does not name (403)', async () => {
    const doc = (await (await fetch(`${cloud.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { description?: string }>>;
    };
    const sessions = await Promise.all(
      (['customer_service', 'finance', 'field'] as const).map((role) => signInAs(cloud, role, `every-${role}`)),
    );
    let refused = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.startsWith('/console/api/') || path === '/console/api/session') continue;
      for (const [method, op] of Object.entries(methods)) {
        if (method === 'get') continue;
        const allowed = /Roles: ([^.]*)\./.exec(op.description ?? '')?.[1]?.split(', ') ?? [];
        for (const session of sessions.filter((s) => !allowed.includes(s.role))) {
          const response = await session.request(
            method.toUpperCase(),
            path.replace('/console/api', '').replace(/\{[^}]+\}/g, 'TS1234'),
            {},
          );
          expect(response.status, `${session.role} ${method} ${path}`).toBe(403);
          refused += 1;
        }
      }
    }
    expect(refused).toBeGreaterThan(10);
  });

  it('documents every console route in the OpenAPI document, and each answers 401 without a session', async () => {
    const doc = (await (await fetch(`${cloud.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { description?: string; security?: unknown[] }>>;
    };
    const routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/console/api/'))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'post /console/api/session',
        'get /console/api/session',
        'post /console/api/adjustments',
      ]),
    );
    for (const { path, method, op } of routes) {
      expect(op.description, `${method} ${path}`).toMatch(/Roles: /);
      if (method === 'post' && path === '/console/api/session') continue;
      expect(op.security, `${method} ${path}`).toEqual([{ console_session: [] }]);
      const url = `${cloud.url}${path.replace(/\{[^}]+\}/g, 'TS1234')}`;
      const response = await fetch(url, {
        method: method.toUpperCase(),
        ...(method === 'get' ? {} : { headers: { 'content-type': 'application/json' }, body: '{}' }),
      });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
  });
});
