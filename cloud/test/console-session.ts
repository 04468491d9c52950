import { createOperator } from '../src/console/operator-accounts.js';
import type { OperatorRole } from '../src/console/roles.js';
import type { Db } from '../src/store/db.js';

/** The password of every operator `signInAs` makes. */
export const TEST_OPERATOR_PASSWORD = 'console-test-password';

/** A signed-in operator: calls `/console/api/…` with its session cookie, as the console app does. */
export interface ConsoleSession {
  username: string;
  role: OperatorRole;
  /** `name=value` of the session cookie (for a browser context: `cookieValue`). */
  cookie: string;
  cookieValue: string;
  /** `path` under `/console/api`, e.g. `/customers?q=0700`; a body is sent as JSON (state changes need one). */
  request(method: string, path: string, body?: unknown): Promise<Response>;
  /** `request` that expects 2xx and answers the parsed JSON. */
  json<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/**
 * Signs in to a running cloud as `username` (default: the role's name), making the operator with
 * `role` and TEST_OPERATOR_PASSWORD first if it does not exist yet.
 */
export async function signInAs(
  cloud: { url: string; db: Db },
  role: OperatorRole,
  username: string = role,
): Promise<ConsoleSession> {
  const exists = await cloud.db.query('SELECT 1 FROM operators WHERE username = $1', [username]);
  if (exists.length === 0) await createOperator(cloud.db, { username, role, password: TEST_OPERATOR_PASSWORD });
  const response = await fetch(`${cloud.url}/console/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: TEST_OPERATOR_PASSWORD }),
  });
  if (!response.ok) throw new Error(`sign-in as ${username} failed: ${response.status} ${await response.text()}`);
  const cookieValue = /tusafishe_console=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
  if (!cookieValue) throw new Error('sign-in set no session cookie');
  const cookie = `tusafishe_console=${cookieValue}`;
  const request = (method: string, path: string, body?: unknown): Promise<Response> => {
    const hasBody = body !== undefined || !['GET', 'HEAD'].includes(method);
    return fetch(`${cloud.url}/console/api${path}`, {
      method,
      headers: { cookie, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
      ...(hasBody ? { body: JSON.stringify(body ?? {}) } : {}),
    });
  };
  return {
    username,
    role,
    cookie,
    cookieValue,
    request,
    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await request(method, path, body);
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
  };
}
