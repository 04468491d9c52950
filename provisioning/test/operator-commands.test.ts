import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud } from '@tusafishe/cloud/provisioning';
import { runCommand } from './run-command.js';

describe('operator add / list / disable', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provisioning-operator-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Each command opens (and checks the migrations of) the PGlite database: few of them.
  it('adds an operator whose stdin password signs in, lists its sign-ins and lockout, disables it', {
    timeout: 300_000,
  }, async () => {
    const env = { DATA_DIR: dir };
    const add = (stdin: string, username = 'amina') =>
      runCommand(['operator', 'add', '--username', username, '--role', 'finance'], { env, stdin });
    const added = await add('a-long-enough-password\n');
    expect(added.err).toBe('');
    expect(added.out).toContain('Operator amina (finance) can now sign in to the console');
    expect((await add('short\n', 'bako')).err).toContain('needs at least 10 characters');
    const badRole = await runCommand(['operator', 'add', '--username', 'x', '--role', 'boss'], { env, stdin: 'p\n' });
    expect(badRole.code).toBe(2);

    expect((await add('another-long-password\n', 'chausiku')).err).toBe('');

    const cloud = await startCloud({ dataDir: dir, port: 0, logger: false, providers: { statusPollIntervalMs: 0 } });
    const signIn = (username: string, password: string) =>
      fetch(`${cloud.url}/console/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
    const second = (ms: number) => Math.floor(ms / 1000) * 1000;
    let signedInFrom: number;
    let signedInUntil: number;
    try {
      signedInFrom = second(Date.now());
      expect(await (await signIn('amina', 'a-long-enough-password')).json()).toEqual({
        username: 'amina',
        role: 'finance',
      });
      signedInUntil = Date.now();
      expect((await signIn('amina', 'a-wrong-password')).status).toBe(401);
      // Five wrong passwords lock chausiku, who has never signed in.
      for (let attempt = 0; attempt < 5; attempt++) expect((await signIn('chausiku', 'wrong')).status).toBe(401);
    } finally {
      await cloud.close();
    }

    const beforeList = Date.now();
    const rows = (await runCommand(['operator', 'list'], { env })).out.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^USERNAME\s+ROLE\s+STATE\s+LAST SIGN-IN\s+FAILED\s+LOCKED UNTIL$/);
    const amina = /^amina\s+finance\s+active\s+(\S+)\s+1\s+-$/.exec(rows[1] ?? '');
    expect(amina, rows.join('\n')).not.toBeNull();
    const lastSignIn = Date.parse(amina?.[1] ?? '');
    expect(lastSignIn).toBeGreaterThanOrEqual(signedInFrom);
    expect(lastSignIn).toBeLessThanOrEqual(signedInUntil);
    const chausiku = /^chausiku\s+finance\s+locked\s+never\s+5\s+(\S+)$/.exec(rows[2] ?? '');
    expect(chausiku, rows.join('\n')).not.toBeNull();
    // Locked for 15 minutes from the last wrong password.
    expect(Date.parse(chausiku?.[1] ?? '')).toBeGreaterThan(beforeList + 10 * 60_000);

    expect((await runCommand(['operator', 'disable', '--username', 'amina'], { env })).code).toBe(0);
    const listed = await runCommand(['operator', 'list'], { env });
    expect(listed.out).toMatch(/^amina\s+finance\s+disabled\s+\S+Z\s+1\s+-$/m);
  });
});
