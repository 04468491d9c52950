import { spawn, type SpawnOptions } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backends, startTestCloud, stopTestCloud, type Backend } from '@tusafishe/cloud/testing';
import type { RunningCloud } from '@tusafishe/cloud';
import { kioskExtensions, LogRing } from '@tusafishe/gateway';
import { startTestGateway, type TestGateway } from '@tusafishe/gateway/testing';
import { runProvisioning } from '@tusafishe/provisioning/commands';
import { dayIn, zoneAtNoon } from '@tusafishe/protocol/testing';
import { runBackupCommand } from '../../scripts/backup-command.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The cloud's and the kiosk's day: a zone where it is noon now, so the runbooks' DAY is "today"
// for both however long the run takes, whenever it starts (not Nairobi's, which ends at 21:00 UTC).
const ZONE = zoneAtNoon();
const DAY = dayIn(ZONE);
const RUNBOOKS = join(ROOT, 'docs/operations');
const runbookFiles = () => readdirSync(RUNBOOKS).filter((name) => name.endsWith('.md') && name !== 'README.md');

/** The ```sh test blocks of a runbook: the commands the test runs. */
function testedBlocks(text: string): string[] {
  return [...text.matchAll(/^ *```sh test\n([\s\S]*?)^ *```/gm)].map((match) => match[1]!);
}

describe('the operations runbooks', () => {
  it('only name npm scripts that exist, and link only to files that exist', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: object }).scripts;
    for (const file of readdirSync(RUNBOOKS).filter((name) => name.endsWith('.md'))) {
      const text = readFileSync(join(RUNBOOKS, file), 'utf8');
      const named = [...text.matchAll(/npm run ([a-z:-]+)/g)].map((match) => match[1]!);
      expect(
        named.filter((name) => !(name in scripts)),
        file,
      ).toEqual([]);
      const links = [...text.matchAll(/\]\(([^)#:]+\.md)\)/g)].map((match) => match[1]!);
      expect(
        links.filter((link) => !readdirSync(RUNBOOKS).includes(link) && !URL.canParse(link, 'file:///')),
        file,
      ).toEqual([]);
      for (const link of links.filter((l) => l.startsWith('../')))
        expect(() => readFileSync(join(RUNBOOKS, link)), `${file} → ${link}`).not.toThrow();
    }
  });
});

/**
 * `npm run provision|backup|restore` as the runbooks call them, run in this process: the same
 * functions the scripts' entry files call (checked against package.json below), without a tsx
 * start per command, so the runbooks' commands stay cheap enough to run on every CI.
 */
const SCRIPTS = {
  provision: 'tsx provisioning/src/cli.ts',
  backup: 'tsx scripts/backup.ts backup',
  restore: 'tsx scripts/backup.ts restore',
};

async function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, stdin: Buffer) {
  let out = '';
  let err = '';
  let code = 0;
  try {
    if (script === 'provision') {
      const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), env };
      code = await runProvisioning(args, { ...io, stdin: Readable.from([stdin]) });
    } else if (script === 'backup' || script === 'restore') {
      await runBackupCommand(script, args, env, (line) => void (out += `${line}\n`));
    } else {
      err = `npm stand-in: no script ${script}\n`;
      code = 127;
    }
  } catch (error) {
    err += `${script} failed: ${error instanceof Error ? error.message : String(error)}\n`;
    code = script === 'provision' ? 1 : 2;
  }
  return { code, out, err };
}

/** Serves `runScript` to the `npm` stand-in: form fields script, args, env, stdin (NUL-separated, base64). */
function startRunner(): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const decode = (name: string) => Buffer.from(form.get(name) ?? '', 'base64');
      const list = (name: string) => decode(name).toString().split('\0').slice(0, -1);
      const env = Object.fromEntries(
        list('env').map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
      );
      const result = await runScript(form.get('script') ?? '', list('args'), env, decode('stdin'));
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      // A last line, so an empty output is still a line `read` gets.
      response.end(`${result.code}\n${b64(result.out)}\n${b64(result.err)}\nend\n`);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const NPM_STAND_IN = `#!/usr/bin/env bash
# npm for the runbook test: \`npm run <script> -- args…\` runs <script>'s code in the test process.
set -euo pipefail
[ "\${1:-}" = run ] || { echo "npm stand-in: only 'npm run <script> -- …'" >&2; exit 127; }
script=$2; shift 2
[ "\${1:-}" = -- ] && shift
stdin=$( [ -t 0 ] || base64 -w0 )
reply=$(curl -sS --fail-with-body "$RUNBOOK_RUNNER" --data-urlencode "script=$script" \\
  --data-urlencode "args=$( (for a in "$@"; do printf '%s\\0' "$a"; done) | base64 -w0)" \\
  --data-urlencode "env=$(env -0 | base64 -w0)" --data-urlencode "stdin=$stdin")
{ read -r code; read -r out; read -r err; } <<< "$reply"
printf '%s' "$out" | base64 -d
printf '%s' "$err" | base64 -d >&2
exit "$code"
`;

/** bash on a script, stdin closed (on a socket, Debian's bash would read bash.bashrc as for rsh). */
function runBash(
  script: string,
  options: SpawnOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => void (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const postgres = backends().find((backend) => backend.name === 'postgres');

/**
 * Every \`\`\`sh test block of every runbook, run by bash against a temporary cloud (on the
 * PostgreSQL server: the provisioning commands share its database) and a gateway synced to it.
 */
describe.skipIf(!postgres)('the runbooks run against a temporary cloud and gateway', () => {
  const OPERATOR = { username: 'runbook-admin', password: 'runbook-admin-pass' };
  const TECHNICIAN = { username: 'runbook-tech', password: 'runbook-tech-pass' };
  const PHONE = '+256771234567';
  let dir: string;
  let cloud: RunningCloud;
  let gateway: TestGateway;
  let runner: Server;
  let accountId: string;
  let database: ReturnType<Backend['fresh']>;
  const backend = postgres as Backend;

  const databaseEnv = () => ({
    DATABASE_URL: process.env['TEST_DATABASE_URL'],
    DATABASE_SCHEMA: database.databaseSchema,
  });
  /** Provisioning as an operator runs it, in-process; its output. */
  const provision = async (args: string[], stdin = '') => {
    const result = await runScript('provision', args, databaseEnv(), Buffer.from(stdin));
    expect(result, args.join(' ')).toMatchObject({ code: 0 });
    return result.out;
  };
  const kioskSecret = async (kioskId: string) =>
    /KIOSK_SECRET=(\S+)/.exec(await provision(['kiosk', 'create', kioskId, '--cloud-url', cloud.url]))![1]!;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runbooks-'));
    database = backend.fresh();
    cloud = await startTestCloud(backend, { ...database, usageTimeZone: ZONE });
    const secret = await kioskSecret('K1');
    await kioskSecret('K9');
    await provision(['operator', 'add', '--username', OPERATOR.username, '--role', 'admin'], `${OPERATOR.password}\n`);
    const registered = await (
      await fetch(`${cloud.url}/ussd`, {
        method: 'POST',
        body: new URLSearchParams({
          sessionId: 'runbook-1',
          serviceCode: '*123#',
          phoneNumber: PHONE,
          networkCode: '64110',
          text: '1*Jane Achieng*4826*4826',
        }),
      })
    ).text();
    accountId = /\b(TS[A-Z0-9]+)\b/.exec(registered)?.[1] ?? '';
    expect(accountId, registered).not.toBe('');
    gateway = await startTestGateway({
      settings: { timezone: ZONE },
      extensions: (core) =>
        kioskExtensions(
          core,
          {
            HW_MODE: 'simulated',
            CLOUD_URL: cloud.url,
            KIOSK_SECRET: secret,
            TECHNICIAN_USERNAME: TECHNICIAN.username,
            TECHNICIAN_PASSWORD: TECHNICIAN.password,
          },
          new LogRing(),
        ),
    });
    // The registered customer has reached the kiosk.
    await vi.waitFor(() => expect(gateway.store.customers.findByPhone(PHONE)).toBeDefined(), { timeout: 30_000 });
    runner = await startRunner();
    await mkdir(join(dir, 'bin'));
    await writeFile(join(dir, 'bin', 'npm'), NPM_STAND_IN);
    await chmod(join(dir, 'bin', 'npm'), 0o755);
  }, 90_000);
  afterAll(async () => {
    runner?.close();
    await gateway?.close();
    await stopTestCloud(cloud, backend);
    await rm(dir, { recursive: true, force: true });
  });

  it('uses the npm scripts package.json defines', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: object }).scripts;
    expect(scripts).toMatchObject(SCRIPTS);
  });

  /** What each runbook's commands must print: the step a reader relies on worked. */
  const SHOWS: Record<string, RegExp[]> = {
    'new-kiosk.md': [
      /KIOSK_SECRET=\S{20,}/,
      /password=\S+/,
      /gateway backup \(\d+ bytes\)/,
      /"last_cloud_contact":\d+/,
    ],
    'replace-pi.md': [/gateway backup \(\d+ bytes\)/, /"sync":\{/],
    'rotate-secrets.md': [
      /Kiosk K9 has a new secret/,
      /FIRMWARE_PUBLIC_KEY=/,
      /dispenser\.bin\.tsfw/,
      /Technician runbook-tech-2 has a new password/,
      /Technician runbook-tech-2 is removed/,
    ],
    'kiosk-alert.md': [/"kiosk_id":"K1"/, /"alerts":\[/, /"points":\[/],
    'paid-no-water.md': [/Balance/, /"account_id":"TS/],
  };

  it('runs a tested block in every runbook that has no other test', () => {
    const tested = runbookFiles().filter((file) => testedBlocks(readFileSync(join(RUNBOOKS, file), 'utf8')).length > 0);
    // restore-cloud.md and restore-gateway.md: their commands run in the backup tests (README there).
    expect(tested.sort()).toEqual(Object.keys(SHOWS).sort());
  });

  it.each(Object.keys(SHOWS))(
    '%s',
    async (file) => {
      const work = join(dir, file.replace('.md', ''));
      await mkdir(work);
      const script = testedBlocks(readFileSync(join(RUNBOOKS, file), 'utf8')).join('\n');
      const { code, stdout, stderr } = await runBash(script, {
        cwd: ROOT,
        env: {
          PATH: `${join(dir, 'bin')}:${process.env['PATH']}`,
          HOME: work,
          RUNBOOK_RUNNER: `http://127.0.0.1:${(runner.address() as { port: number }).port}/`,
          CLOUD_URL: cloud.url,
          ...databaseEnv(),
          OPERATOR_USERNAME: OPERATOR.username,
          OPERATOR_PASSWORD: OPERATOR.password,
          // The kiosk the runbook creates or rotates; the one it inspects is the gateway's, K1.
          KIOSK_ID: { 'rotate-secrets.md': 'K9', 'kiosk-alert.md': 'K1' }[file] ?? 'K7',
          WORK: work,
          FLEET_CA_DIR: join(dir, 'fleet-ca'),
          GATEWAY_URL: `http://127.0.0.1:${gateway.httpPort}`,
          DATA_DIR: gateway.dataDir,
          OLD_DATA: gateway.dataDir,
          TECHNICIAN: TECHNICIAN.username,
          TECHNICIAN_PASSWORD: TECHNICIAN.password,
          NEW_TECHNICIAN: 'runbook-tech-2',
          NEW_TECHNICIAN_PASSWORD: 'runbook-tech-pass-2',
          CHANGED_TECHNICIAN_PASSWORD: 'runbook-tech-pass-3',
          PHONE,
          ACCOUNT_ID: accountId,
          DAY,
        },
      });
      expect({ code, stderr, stdout }).toEqual({ code: 0, stderr: expect.any(String), stdout: expect.any(String) });
      for (const shown of SHOWS[file]!) expect(stdout).toMatch(shown);
    },
    90_000,
  );
});
