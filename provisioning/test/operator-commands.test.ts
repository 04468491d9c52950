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
  it('adds a console operator whose stdin password signs in, lists and disables it', { timeout: 300_000 }, async () => {
    const env = { DATA_DIR: dir };
    const add = (stdin: string, username = 'amina') =>
      runCommand(['operator', 'add', '--username', username, '--role', 'finance'], { env, stdin });
    const added = await add('a-long-enough-password\n');
    expect(added.err).toBe('');
    expect(added.out).toContain('Operator amina (finance) can now sign in to the console');
    expect((await add('short\n', 'bako')).err).toContain('needs at least 10 characters');
    const badRole = await runCommand(['operator', 'add', '--username', 'x', '--role', 'boss'], { env, stdin: 'p\n' });
    expect(badRole.code).toBe(2);

    const cloud = await startCloud({ dataDir: dir, port: 0, logger: false, providers: { statusPollIntervalMs: 0 } });
    try {
      const signIn = await fetch(`${cloud.url}/console/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'amina', password: 'a-long-enough-password' }),
      });
      expect(await signIn.json()).toEqual({ username: 'amina', role: 'finance' });
    } finally {
      await cloud.close();
    }

    expect((await runCommand(['operator', 'disable', '--username', 'amina'], { env })).code).toBe(0);
    const listed = await runCommand(['operator', 'list'], { env });
    expect(listed.out).toMatch(/^amina\s+finance\s+disabled$/m);
  });
});
