/**
 * `npm start`: a whole kiosk on one machine with embedded defaults — the cloud on
 * embedded Postgres (PGlite) with its payment-provider simulators, one gateway synced
 * to it with simulated kiosk hardware, and six simulated dispensers on the gateway's
 * broker. Cloud and gateway run as their own processes, exactly as deployed; their
 * JSON logs go to DATA_DIR/logs so the terminal stays readable.
 */
import { spawn, type ChildProcess, type StdioPipe } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { startKioskDispensers, type SimulatedDispenser } from '@tusafishe/dispenser-firmware/host';
import { DEMO_TECHNICIAN } from '@tusafishe/gateway';
import { DEMO_OPERATOR_PASSWORD, DEMO_OPERATORS } from '@tusafishe/cloud';
import { formatDevSms } from '@tusafishe/protocol/dev-sms';
import { generateReleaseKey, publicKeyOf } from '@tusafishe/protocol/signed-firmware';
import { describeLink, startDemoLink, type DemoLink, type LinkCommand } from './demo-link.js';

const env = process.env;
const dataDir = resolve(env.DATA_DIR ?? 'data');
const kioskId = env.KIOSK_ID ?? 'K1';
// 0 lets the OS pick a free port; the parts say in their log where they listen.
const cloudPort = env.CLOUD_PORT ?? '3000';
const httpPort = env.GATEWAY_HTTP_PORT ?? '8080';
const mqttPort = env.GATEWAY_MQTT_PORT ?? '1883';
// Development-only credentials, printed below; production ones come from provisioning.
const kioskSecret = env.KIOSK_SECRET ?? 'dev-kiosk-secret';
const technician = {
  username: env.TECHNICIAN_USERNAME ?? DEMO_TECHNICIAN.username,
  password: env.TECHNICIAN_PASSWORD ?? DEMO_TECHNICIAN.password,
};
const logDir = resolve(dataDir, 'logs');
mkdirSync(logDir, { recursive: true });
/** How long a part may take to start, and the parts together to stop before they are killed. */
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 20_000;
/** Preloaded into every part: it stops when this script is gone, even SIGKILLed. */
const EXIT_WITH_PARENT = new URL('./exit-with-parent.ts', import.meta.url).href;

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

/** Where the cloud's payment-provider simulators listen (its log line says). */
interface Simulators {
  mtn: string;
  airtel: string;
  mpesa: string;
}

/** One of the parts' pino lines. */
type LogLine = Record<string, unknown> & { msg?: string };

/**
 * The cloud's development SMS adapter and the gateway's simulated modem write each message they
 * "send" to this descriptor of theirs (DEV_SMS_FD), a pipe to this script, which prints it: the
 * demo's phones are this terminal. Not through a log: a message may carry a PIN-reset code or a
 * keypad token.
 */
const SMS_FD = 3;
/** Who texts the on-call technician's phone: the kiosk's modem, once the cloud is out of reach this long. */
const DEMO_TECHNICIAN_PHONE = '+254700000190';
const DEMO_SMS_AFTER_OFFLINE_MS = '60000';

interface Part {
  name: string;
  child: ChildProcess;
  /** Resolves when the process has exited, however (exit code or signal). */
  exited: Promise<void>;
}

const parts: Part[] = [];
let dispensers: SimulatedDispenser[] = [];
let link: DemoLink | null = null;
let stopping: Promise<never> | null = null;

/** Resolves with `promise`'s value, or with `fallback` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((done) => {
    timer = setTimeout(() => done(fallback), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Stops everything once, whatever asked (a signal, a part that died, a crash of this script):
 * the dispensers, then SIGTERM to each part and a bounded wait for them to exit, then SIGKILL
 * for any still running; then exits with `code`.
 */
function stop(code: number): Promise<never> {
  stopping ??= (async () => {
    if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
    await within(Promise.allSettled(dispensers.map((d) => d.stop())), STOP_TIMEOUT_MS, []);
    for (const part of parts) part.child.kill('SIGTERM');
    const allExited = Promise.all(parts.map((part) => part.exited)).then(() => true);
    if (!(await within(allExited, STOP_TIMEOUT_MS, false))) {
      for (const part of parts) {
        if (part.child.exitCode !== null || part.child.signalCode !== null) continue;
        process.stderr.write(`${part.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s: killed\n`);
        part.child.kill('SIGKILL');
      }
      await allExited;
    }
    await link?.close();
    process.exit(code);
  })();
  return stopping;
}

/**
 * Spawns a part with its output in DATA_DIR/logs/<name>.log and resolves with what `ready` finds
 * in its log lines (e.g. where it listens); rejects if it exits or takes too long first. With
 * `onSms`, the part's SMS_FD is a pipe whose lines go there.
 */
function startPart<T>(
  name: string,
  entry: string,
  partEnv: Record<string, string>,
  ready: (line: LogLine) => T | undefined,
  onSms?: (line: string) => void,
): Promise<T> {
  if (stopping) return Promise.reject(new Error(`not starting ${name}: stopping`));
  const logFile = resolve(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, entry], {
    // This script reads the parts' info lines (where they listen), so they log at least those.
    env: {
      ...env,
      LOG_LEVEL: ['trace', 'debug'].includes(env.LOG_LEVEL ?? '') ? env.LOG_LEVEL : 'info',
      ...partEnv,
      ...(onSms ? { DEV_SMS_FD: String(SMS_FD) } : {}),
    },
    // stdin: a pipe this script never writes to; the part stops when it closes (scripts/exit-with-parent.ts).
    stdio: ['pipe', 'pipe', 'pipe', ...(onSms ? ['pipe' as StdioPipe] : [])],
  });
  if (onSms) createInterface({ input: child.stdio[SMS_FD] as Readable }).on('line', onSms);
  const exited = once(child, 'exit').then(() => undefined);
  parts.push({ name, child, exited });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.once('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`\n${name} stopped unexpectedly (${signal ?? `exit ${code}`}); see ${logFile}\n`);
    void stop(1);
  });
  return new Promise<T>((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s; see ${logFile}`)),
      START_TIMEOUT_MS,
    );
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited while starting; see ${logFile}`));
    });
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return; // not a log line (e.g. the gateway's printed demo credentials)
      }
      const value = ready(line);
      if (value === undefined) return;
      clearTimeout(timer);
      resolveReady(value);
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop(0));
// A crash of this script must not leave the cloud and gateway running on their ports.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.once(event, (error: unknown) => {
    process.stderr.write(
      `npm start crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    void stop(1);
  });
}

async function main(): Promise<void> {
  let simulators: Simulators | null = null;
  let cloudUrl = '';
  await startPart(
    'cloud',
    'cloud/src/main.ts',
    {
      // The cloud defaults to production (webhook secrets required, no simulators, no SMS outbox route):
      // the demo asks for development explicitly.
      NODE_ENV: 'development',
      CLOUD_PORT: cloudPort,
      DATA_DIR: resolve(dataDir, 'cloud'),
      DEMO_SEED: 'on',
      DEMO_KIOSK_ID: kioskId,
      DEMO_KIOSK_SECRET: kioskSecret,
    },
    (line) => {
      if (line.msg === 'cloud listening') cloudUrl = String(line.url);
      if (line.msg?.startsWith('payment simulators')) simulators = line as unknown as Simulators;
      // Seeded: the gateway's first pull finds the demo kiosk and customers.
      return line.msg === 'demo data seeded' ? true : undefined;
    },
    printSms(),
  );

  // The gateway reaches the cloud through a link the demo can cut (`npm run link -- cut`).
  link = await startDemoLink({ cloudUrl, dataDir });
  const gateway = await startPart(
    'gateway',
    'gateway/src/main.ts',
    {
      DATA_DIR: dataDir,
      KIOSK_ID: kioskId,
      GATEWAY_HTTP_PORT: httpPort,
      GATEWAY_MQTT_PORT: mqttPort,
      CLOUD_URL: link.url,
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
      // Alerts the cloud cannot hear go to an on-call phone through the simulated modem, printed here.
      HW_TECHNICIAN_PHONES: env.HW_TECHNICIAN_PHONES ?? DEMO_TECHNICIAN_PHONE,
      HW_SMS_AFTER_OFFLINE_MS: env.HW_SMS_AFTER_OFFLINE_MS ?? DEMO_SMS_AFTER_OFFLINE_MS,
    },
    (line) =>
      line.msg === 'gateway listening' ? { http: Number(line.http_port), mqtt: Number(line.mqtt_port) } : undefined,
    printSms('the kiosk modem'),
  );

  dispensers = await startKioskDispensers({ dataDir, mqttUrl: `mqtt://127.0.0.1:${gateway.mqtt}`, releasePublicKey });
  printBanner(cloudUrl, gateway, simulators, readKeys());
}

/** A line of what happens while the demo runs (an SMS sent, the link cut), with the time. */
function say(text: string): void {
  process.stdout.write(`${new Date().toTimeString().slice(0, 8)}  ${text}\n`);
}

/** Prints each SMS a part sent (marked with `sender` unless it is the cloud), as its phone would show it: on one line. */
function printSms(sender?: string): (line: string) => void {
  return (line) => {
    const text = formatDevSms(line, sender);
    if (text) say(text); // else not one of the writer's lines
  };
}

const KEY_COMMANDS: Record<string, LinkCommand> = { c: 'cut', r: 'restore', s: 'status' };
const KEYS_HELP = "c cuts the kiosk's link to the cloud, r restores it, s says how it is; Ctrl-C stops";

/**
 * Whether this process is its terminal's foreground job: a background job that reads the
 * terminal (or sets its mode) is stopped by the kernel (SIGTTIN), and with it the parts' logs.
 */
function inForeground(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const [, , pgrp, , , tpgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return pgrp === tpgid;
  } catch {
    return true; // no /proc (not Linux): someone started it at the terminal
  }
}

/**
 * Keys typed in this terminal — or written to this script's stdin when it is not a terminal — cut
 * and restore the kiosk's link, as `npm run link` does from another terminal. A terminal is read
 * in raw mode (a key without Enter), where Ctrl-C arrives as a key: it stops the demo as SIGINT
 * does. Returns whether keys are read.
 */
function readKeys(): boolean {
  const input = process.stdin;
  if (input.isTTY) {
    if (!inForeground()) return false;
    input.setRawMode(true);
  }
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    for (const key of chunk) {
      if (key === '\x03') return void stop(0);
      const command = KEY_COMMANDS[key.toLowerCase()];
      if (command && link) say(describeLink(link.apply(command)));
      else if (/^\S$/.test(key)) say(`keys: ${KEYS_HELP}`);
    }
  });
  return true;
}

function printBanner(
  cloudUrl: string,
  gateway: { http: number; mqtt: number },
  payments: Simulators | null,
  keys: boolean,
): void {
  process.stdout.write(`
Tusafishe kiosk ${kioskId} is running as a DEMO: demo data (cloud DEMO_SEED=on, gateway SEED_DEMO=true),
demo technician and operators and simulated hardware (HW_MODE=simulated) are switched on; a production kiosk refuses all three.
Firmware updates trust the demo release key ${releaseKeyFile}, not the fleet's.

  Technicians' UI   http://127.0.0.1:${gateway.http}/   (sign in: ${technician.username} / ${technician.password})
  Gateway broker    mqtt://127.0.0.1:${gateway.mqtt}   dispensers ${dispensers.map((d) => d.id).join(', ')} (credentials in ${resolve(dataDir, 'demo-credentials.json')})
  Cloud             ${cloudUrl}/  (USSD POST /ussd, SMS POST /sms/inbound; SMS sent: printed below, and GET /dev/sms/outbox)
  Console           ${cloudUrl}/console/  (operations console; password ${DEMO_OPERATOR_PASSWORD} for ${DEMO_OPERATORS.map((o) => `${o.username} (${o.role})`).join(', ')})
  Payments          ${payments ? `M-Pesa ${payments.mpesa}, MTN MoMo ${payments.mtn}, Airtel Money ${payments.airtel}` : 'the providers configured (no simulators)'}
  Logs              ${logDir}

Buy water at a dispenser (another terminal):   npm run dispenser -- D1
  keys: 0700000102 #  1234 #  A   (phone, PIN, the 1 L preset; B 5 L, C 10 L, D 20 L)
Register or top up from a phone (another terminal):   npm run ussd -- +256771234567
Cut the kiosk's link to the cloud, and restore it:   ${keys ? 'keys c / r here, or ' : ''}npm run link -- cut   /   npm run link -- restore
Sign a firmware image for the demo, then upload it on the UI's Firmware page:
  npm run provision -- firmware sign IMAGE --key ${relative(process.cwd(), releaseKeyFile)} --version tusafishe-fw/0.2.0-demo --counter 1
Demo customers: +254700000101 … +254700000105, PIN 1234, 20 L each (they pay with M-Pesa); +254700000106 is inactive.
Every SMS the cloud sends is printed here as the demo's phones receive it (time, number, text); so are the alerts the
kiosk texts through its (simulated) modem to the on-call technician ${env.HW_TECHNICIAN_PHONES ?? DEMO_TECHNICIAN_PHONE} once the link has been cut for ${Number(env.HW_SMS_AFTER_OFFLINE_MS ?? DEMO_SMS_AFTER_OFFLINE_MS) / 1000} s.
${keys ? `Keys here: ${KEYS_HELP}.` : 'Stop with Ctrl-C.'}
`);
}

main().catch((error: unknown) => {
  if (stopping) return; // a part stopped on purpose fails its start: not news
  process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  void stop(1);
});
