/**
 * `npm start`: a whole kiosk on one machine with embedded defaults — the cloud on
 * embedded Postgres (PGlite) with its payment-provider simulators, one gateway synced
 * to it with simulated kiosk hardware, and six simulated dispensers on the gateway's
 * broker. Cloud and gateway run as their own processes, exactly as deployed; their
 * JSON logs go to DATA_DIR/logs so the terminal stays readable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { startKioskDispensers, type SimulatedDispenser } from '@tusafishe/dispenser-firmware/host';
import { DEMO_TECHNICIAN } from '@tusafishe/gateway';
import { DEMO_OPERATOR_PASSWORD, DEMO_OPERATORS } from '@tusafishe/cloud';
import { generateReleaseKey, publicKeyOf } from '@tusafishe/protocol/signed-firmware';

const env = process.env;
const dataDir = resolve(env.DATA_DIR ?? 'data');
const kioskId = env.KIOSK_ID ?? 'K1';
const cloudPort = Number(env.CLOUD_PORT ?? 3000);
const httpPort = Number(env.GATEWAY_HTTP_PORT ?? 8080);
const mqttPort = Number(env.GATEWAY_MQTT_PORT ?? 1883);
// Development-only credentials, printed below; production ones come from provisioning.
const kioskSecret = env.KIOSK_SECRET ?? 'dev-kiosk-secret';
const technician = {
  username: env.TECHNICIAN_USERNAME ?? DEMO_TECHNICIAN.username,
  password: env.TECHNICIAN_PASSWORD ?? DEMO_TECHNICIAN.password,
};
const logDir = resolve(dataDir, 'logs');
mkdirSync(logDir, { recursive: true });

/**
 * Nobody can sign for the fleet's release key here, so the demo makes its own on first start
 * (as `npm run provision -- firmware keygen` does) and its gateway and dispensers trust that one.
 */
function demoReleaseKey(file: string): string {
  if (!existsSync(file)) writeFileSync(file, generateReleaseKey().privateKeyPem, { flag: 'wx', mode: 0o600 });
  return publicKeyOf(readFileSync(file, 'utf8'));
}
const releaseKeyFile = resolve(dataDir, 'demo-release-key.pem');
const releasePublicKey = demoReleaseKey(releaseKeyFile);

const children: ChildProcess[] = [];
let stopping = false;

function startPart(name: string, entry: string, partEnv: Record<string, string>): ChildProcess {
  const log = createWriteStream(resolve(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...env, LOG_LEVEL: env.LOG_LEVEL ?? 'info', ...partEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.once('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(
      `\n${name} stopped unexpectedly (${signal ?? `exit ${code}`}); see ${resolve(logDir, `${name}.log`)}\n`,
    );
    void stop(1);
  });
  children.push(child);
  return child;
}

async function waitForHealth(name: string, url: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`${name} did not become healthy at ${url} within ${timeoutMs / 1000} s; see ${logDir}`);
}

let dispensers: SimulatedDispenser[] = [];

async function stop(code: number): Promise<never> {
  stopping = true;
  await Promise.allSettled(dispensers.map((d) => d.stop()));
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.allSettled(children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
  process.exit(code);
}

process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

startPart('cloud', 'cloud/src/main.ts', {
  // The cloud defaults to production (webhook secrets required, no simulators, no SMS outbox route):
  // the demo asks for development explicitly.
  NODE_ENV: 'development',
  CLOUD_PORT: String(cloudPort),
  DATA_DIR: resolve(dataDir, 'cloud'),
  DEMO_SEED: 'on',
  DEMO_KIOSK_ID: kioskId,
  DEMO_KIOSK_SECRET: kioskSecret,
});
await waitForHealth('cloud', `http://127.0.0.1:${cloudPort}/health`);

startPart('gateway', 'gateway/src/main.ts', {
  DATA_DIR: dataDir,
  KIOSK_ID: kioskId,
  GATEWAY_HTTP_PORT: String(httpPort),
  GATEWAY_MQTT_PORT: String(mqttPort),
  CLOUD_URL: `http://127.0.0.1:${cloudPort}`,
  KIOSK_SECRET: kioskSecret,
  TECHNICIAN_USERNAME: technician.username,
  TECHNICIAN_PASSWORD: technician.password,
  // The demo is opt-in: a gateway seeds nothing and simulates nothing unless told to (and never in production).
  SEED_DEMO: 'true',
  HW_MODE: 'simulated',
  HW_SIM_SPEED: env.HW_SIM_SPEED ?? '20',
  // The demo keeps the old kiosks' endpoint open; a production gateway serves it only to configured clients.
  LEGACY_VERIFICATION_OPEN: env.LEGACY_VERIFICATION_OPEN ?? 'true',
  // Uploads must be signed with the demo's release key, not the fleet's.
  FIRMWARE_PUBLIC_KEY: releasePublicKey,
});
await waitForHealth('gateway', `http://127.0.0.1:${httpPort}/health`);

dispensers = await startKioskDispensers({ dataDir, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, releasePublicKey });

process.stdout.write(`
Tusafishe kiosk ${kioskId} is running as a DEMO: demo data (cloud DEMO_SEED=on, gateway SEED_DEMO=true),
demo technician and operators and simulated hardware (HW_MODE=simulated) are switched on; a production kiosk refuses all three.
Firmware updates trust the demo release key ${releaseKeyFile}, not the fleet's.

  Technicians' UI   http://127.0.0.1:${httpPort}/   (sign in: ${technician.username} / ${technician.password})
  Gateway broker    mqtt://127.0.0.1:${mqttPort}   dispensers ${dispensers.map((d) => d.id).join(', ')} (credentials in ${resolve(dataDir, 'demo-credentials.json')})
  Cloud             http://127.0.0.1:${cloudPort}/  (USSD POST /ussd, SMS POST /sms/inbound)
  Console           http://127.0.0.1:${cloudPort}/console/  (operations console; password ${DEMO_OPERATOR_PASSWORD} for ${DEMO_OPERATORS.map((o) => `${o.username} (${o.role})`).join(', ')})
  Payments          M-Pesa http://127.0.0.1:3103/simulator, MTN MoMo :3101/simulator, Airtel Money :3102/simulator
  Logs              ${logDir}

Buy water at a dispenser (another terminal):   npm run dispenser -- D1
Register or top up from a phone (another terminal):   npm run ussd -- +256771234567
  keys: 0700000102 #  1234 #  A   (phone, PIN, the 1 L preset; B 5 L, C 10 L, D 20 L)
Sign a firmware image for the demo, then upload it on the UI's Firmware page:
  npm run provision -- firmware sign IMAGE --key ${relative(process.cwd(), releaseKeyFile)} --version tusafishe-fw/0.2.0-demo --counter 1
Demo customers: +254700000101 … +254700000105, PIN 1234, 20 L each (they pay with M-Pesa); +254700000106 is inactive.
Stop with Ctrl-C.
`);
