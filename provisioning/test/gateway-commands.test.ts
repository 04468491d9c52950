import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startGateway,
  type RunningGateway,
  createLogger,
  authenticateTechnician,
} from '@tusafishe/gateway/provisioning';
import { kioskExtensions, LogRing } from '@tusafishe/gateway';
import { printedValue, runCommand } from './run-command.js';

/** Connects as a dispenser would; resolves true when the broker accepts the login. */
async function brokerAccepts(port: number, dispenserId: string, password: string): Promise<boolean> {
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: dispenserId,
      username: dispenserId,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    await client.endAsync();
    return true;
  } catch {
    return false;
  }
}

/** Signs in to the running gateway's technicians' API; resolves the session cookie, or the refusal's status. */
async function signIn(httpPort: number, username: string, password: string): Promise<string | number> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) return response.status;
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

/** The status the gateway answers a signed-in page load with. */
async function sessionStatus(httpPort: number, cookie: string): Promise<number> {
  return (await fetch(`http://127.0.0.1:${httpPort}/api/session`, { headers: { cookie } })).status;
}

describe('dispenser and technician commands against a running gateway', () => {
  let dir: string;
  let gateway: RunningGateway;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provisioning-gateway-'));
    gateway = await startGateway({
      dataDir: dir,
      kioskId: 'KIOSK-042',
      host: '127.0.0.1',
      mqttPort: 0,
      httpPort: 0,
      logger: createLogger({ level: 'silent' }),
      // The technicians' API as the field gateway composes it, without kiosk hardware.
      extensions: (core) => kioskExtensions(core, { HW_MODE: 'off' }, new LogRing()),
    });
    env = { DATA_DIR: dir, KIOSK_ID: 'KIOSK-042', GATEWAY_MQTT_PORT: String(gateway.mqttPort) };
  });
  afterAll(async () => {
    await gateway?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('dispenser add: the printed password logs in to the broker, a wrong one is refused, a duplicate id is refused', async () => {
    const added = await runCommand(['dispenser', 'add', 'D7', '--broker-host', '10.42.0.1'], { env });
    expect(added.code).toBe(0);
    expect(printedValue(added.out, 'id')).toBe('D7');
    expect(printedValue(added.out, 'broker')).toBe('10.42.0.1');
    expect(printedValue(added.out, 'port')).toBe(String(gateway.mqttPort));
    const password = printedValue(added.out, 'password');
    expect(gateway.store.dispensers.get('D7')).toMatchObject({
      kiosk_id: 'KIOSK-042',
      secret_hash: expect.stringMatching(/^\$scrypt\$/),
    });

    expect(await brokerAccepts(gateway.mqttPort, 'D7', password)).toBe(true);
    expect(await brokerAccepts(gateway.mqttPort, 'D7', 'wrong-password')).toBe(false);

    const again = await runCommand(['dispenser', 'add', 'D7'], { env });
    expect(again.code).toBe(1);
    expect(again.err).toContain('dispenser D7 already exists: nothing changed');
  });

  it('dispenser rotate-secret: the new password logs in and the old one no longer does', async () => {
    const added = await runCommand(['dispenser', 'add', 'D8'], { env });
    const old = printedValue(added.out, 'password');
    const rotated = await runCommand(['dispenser', 'rotate-secret', 'D8'], { env });
    expect(rotated.code).toBe(0);
    const fresh = printedValue(rotated.out, 'password');
    expect(await brokerAccepts(gateway.mqttPort, 'D8', fresh)).toBe(true);
    expect(await brokerAccepts(gateway.mqttPort, 'D8', old)).toBe(false);
    expect((await runCommand(['dispenser', 'rotate-secret', 'D99'], { env })).code).toBe(1);
    expect((await runCommand(['dispenser', 'add', 'D/9'], { env })).code).toBe(2);
  });

  it('technician add: reads the password from stdin only, never prints it, and the account signs in', async () => {
    const password = 'correct-horse-battery';
    const added = await runCommand(['technician', 'add', 'amina', '--password-stdin'], { env, stdin: `${password}\n` });
    expect(added.code).toBe(0);
    expect(added.out + added.err).not.toContain(password);
    await expect(authenticateTechnician(gateway.store.db, 'amina', password)).resolves.toMatchObject({
      username: 'amina',
    });

    const taken = await runCommand(['technician', 'add', 'amina', '--password-stdin'], {
      env,
      stdin: 'another-long-password\n',
    });
    expect(taken.code).toBe(1);
    const weak = await runCommand(['technician', 'add', 'baraka', '--password-stdin'], { env, stdin: 'short\n' });
    expect(weak.code).toBe(1);
    expect(weak.err).toContain('at least 10 characters');
    // No terminal to prompt on and no --password-stdin: a usage error, never a password from argv.
    const noTty = await runCommand(['technician', 'add', 'baraka'], { env });
    expect(noTty.code).toBe(2);
    expect((await runCommand(['technician', 'add', 'baraka', '--password', password], { env })).code).toBe(2);
  });

  it('technician password: the new password signs in, the old one and every open session no longer do', async () => {
    const old = 'first-long-password';
    await runCommand(['technician', 'add', 'baraka', '--password-stdin'], { env, stdin: `${old}\n` });
    const cookie = await signIn(gateway.httpPort, 'baraka', old);
    expect(typeof cookie).toBe('string');
    expect(await sessionStatus(gateway.httpPort, cookie as string)).toBe(200);

    const fresh = 'second-long-password';
    const changed = await runCommand(['technician', 'password', 'baraka', '--password-stdin'], {
      env,
      stdin: `${fresh}\n`,
    });
    expect(changed.code).toBe(0);
    expect(changed.out + changed.err).not.toContain(fresh);
    expect(await sessionStatus(gateway.httpPort, cookie as string)).toBe(401);
    expect(await signIn(gateway.httpPort, 'baraka', old)).toBe(401);
    expect(typeof (await signIn(gateway.httpPort, 'baraka', fresh))).toBe('string');

    const weak = await runCommand(['technician', 'password', 'baraka', '--password-stdin'], { env, stdin: 'short\n' });
    expect(weak.code).toBe(1);
    expect(typeof (await signIn(gateway.httpPort, 'baraka', fresh))).toBe('string');
    const unknown = await runCommand(['technician', 'password', 'nobody', '--password-stdin'], {
      env,
      stdin: `${fresh}\n`,
    });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no technician "nobody": nothing changed');
  });

  it('technician remove: the account no longer signs in and its session ends; the audit log keeps its sign-in', async () => {
    const password = 'leaving-technician-pw';
    await runCommand(['technician', 'add', 'chausiku', '--password-stdin'], { env, stdin: `${password}\n` });
    const cookie = (await signIn(gateway.httpPort, 'chausiku', password)) as string;
    const audited = () =>
      gateway.store.db.prepare("SELECT count(*) AS n FROM technician_audit WHERE action = 'sign_in'").get();
    const before = audited();

    const removed = await runCommand(['technician', 'remove', 'chausiku'], { env });
    expect(removed.code).toBe(0);
    expect(await sessionStatus(gateway.httpPort, cookie)).toBe(401);
    expect(await signIn(gateway.httpPort, 'chausiku', password)).toBe(401);
    expect(audited()).toEqual(before);
    const again = await runCommand(['technician', 'remove', 'chausiku'], { env });
    expect(again.code).toBe(1);
    expect(again.err).toContain('no technician "chausiku": nothing changed');
  });
});
