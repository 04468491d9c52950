/**
 * Shared test fixture (not a test): a real gateway in a temp DATA_DIR on ephemeral
 * loopback ports, and dispensers speaking the real protocol over real MQTT.
 * Firmware, hardware, sync and UI tests reuse it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  AuthResponse,
  decodeMessage,
  dispenserTopic,
  newId,
  SessionAck,
  type AuthRequest,
  type SessionComplete,
} from '@tusafishe/protocol';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { startGateway, type GatewayOptions, type RunningGateway } from '../src/gateway.js';
import { REDACT_PATHS } from '../src/logger.js';
import { readDemoCredentials, type DemoCredentials } from '../src/seed/demo-data.js';

/** How long a test waits for an MQTT answer or connection: generous, a loaded CI machine is slow. */
export const TEST_TIMEOUT_MS = 30_000;

export interface TestGateway extends RunningGateway {
  dataDir: string;
}

/**
 * Starts a seeded gateway (demo customers, dispensers D1–D6) in a fresh temp dir on
 * 127.0.0.1 with ephemeral ports. `close()` also deletes the directory unless
 * `keepDataDir` is set. Set TEST_LOG=debug to see its log.
 */
export async function startTestGateway(
  options: Partial<GatewayOptions> & { keepDataDir?: boolean } = {},
): Promise<TestGateway> {
  const { keepDataDir, ...overrides } = options;
  const dataDir = overrides.dataDir ?? (await mkdtemp(join(tmpdir(), 'tusafishe-gw-')));
  const gateway = await startGateway({
    kioskId: 'K1',
    host: '127.0.0.1',
    mqttPort: 0,
    httpPort: 0,
    seedDemo: true,
    logger: pino({ level: process.env.TEST_LOG ?? 'silent', redact: REDACT_PATHS }),
    ...overrides,
    // Tests start with the cloud just reached, so the offline limit only applies where a test says so.
    setup: async (core) => {
      if (core.store.lastCloudContact() === null) core.store.setLastCloudContact(Date.now());
      await overrides.setup?.(core);
    },
    dataDir,
  });
  return {
    ...gateway,
    dataDir,
    close: async () => {
      await gateway.close();
      if (!keepDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Password of a demo dispenser of this gateway. */
export function demoPassword(gateway: Pick<RunningGateway, 'demo'>, dispenserId: string): string {
  const entry = gateway.demo?.dispensers.find((d) => d.id === dispenserId);
  if (!entry) throw new Error(`no demo credentials for ${dispenserId}`);
  return entry.password;
}

/** A raw MQTT.js client logged in as a demo dispenser (no reconnects). */
export async function connectMqtt(
  mqttPort: number,
  username: string,
  password: string,
  options: IClientOptions = {},
): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: username,
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: TEST_TIMEOUT_MS,
    ...options,
  });
  // Without TCP_NODELAY each QoS 1 exchange waits ~40 ms on Nagle + delayed ACK.
  (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
  return client;
}

/** Resolves with the first message on `topic` that `accept` returns non-undefined for. */
export function nextMessage<T>(
  client: MqttClient,
  topic: string,
  accept: (payload: Buffer) => T | undefined,
  timeoutMs = TEST_TIMEOUT_MS,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no matching message on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (received: string, payload: Buffer) => {
      if (received !== topic) return;
      const value = accept(payload);
      if (value === undefined) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(value);
    };
    client.on('message', onMessage);
  });
}

/** A dispenser speaking the real protocol: request → response, completion → ack. */
export class TestDispenser {
  private constructor(
    readonly id: string,
    readonly client: MqttClient,
  ) {}

  static async connect(gateway: Pick<RunningGateway, 'mqttPort' | 'demo'>, id = 'D1'): Promise<TestDispenser> {
    const client = await connectMqtt(gateway.mqttPort, id, demoPassword(gateway, id));
    await client.subscribeAsync([dispenserTopic(id, 'auth/response'), dispenserTopic(id, 'session/ack')], { qos: 1 });
    return new TestDispenser(id, client);
  }

  request(phone: string, requestedMl: number, pin = '1234'): AuthRequest {
    return { request_id: newId(), phone, pin, requested_ml: requestedMl };
  }

  /** Publishes a request (or any raw payload) and waits for the response to `requestId`. */
  async authorise(request: AuthRequest | { payload: string; requestId: string }): Promise<AuthResponse> {
    const requestId = 'payload' in request ? request.requestId : request.request_id;
    const answer = nextMessage(this.client, dispenserTopic(this.id, 'auth/response'), (payload) => {
      const decoded = decodeMessage(AuthResponse, payload);
      return decoded.ok && decoded.value.request_id === requestId ? decoded.value : undefined;
    });
    const body = 'payload' in request ? request.payload : JSON.stringify(request);
    await this.client.publishAsync(dispenserTopic(this.id, 'auth/request'), body, { qos: 1 });
    return answer;
  }

  /** Publishes a completion and waits for its acknowledgement. */
  async complete(report: SessionComplete): Promise<SessionAck> {
    const ack = nextMessage(this.client, dispenserTopic(this.id, 'session/ack'), (payload) => {
      const decoded = decodeMessage(SessionAck, payload);
      return decoded.ok && decoded.value.session_id === report.session_id ? decoded.value : undefined;
    });
    await this.client.publishAsync(dispenserTopic(this.id, 'session/complete'), JSON.stringify(report), { qos: 1 });
    return ack;
  }

  completion(approval: { session_id: string; request_id: string }, deliveredMl: number): SessionComplete {
    return {
      session_id: approval.session_id,
      request_id: approval.request_id,
      delivered_ml: deliveredMl,
      pulses: Math.round(deliveredMl * 0.45),
      end_reason: 'target_reached',
      ended_at: Date.now(),
    };
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** A gateway running as its own process (`node --import tsx gateway/src/main.ts`). */
export interface GatewayProcess {
  child: ChildProcess;
  mqttPort: number;
  httpPort: number;
  /** The demo dispensers' credentials; null when the demo data is off (SEED_DEMO=false, production). */
  demo: DemoCredentials | null;
  /** Every stdout line so far. */
  output: string[];
  /** Sends `signal` and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Spawns the gateway process on DATA_DIR `dataDir` with ephemeral loopback ports and
 * resolves once it reports its ports. Extra env (settings, LOG_LEVEL) via `env`.
 */
function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Runs the gateway from source; pass `[bundle]` to run a built `main.js` instead. */
const FROM_SOURCE = ['--import', 'tsx', 'gateway/src/main.ts'];

export async function spawnGateway(
  dataDir: string,
  /** Overrides; `undefined` removes a variable (e.g. to start as a production kiosk without SEED_DEMO). */
  env: Record<string, string | undefined> = {},
  // Generous: under a loaded CI machine tsx alone can take tens of seconds to start a gateway.
  timeoutMs = 90_000,
  nodeArgs = FROM_SOURCE,
): Promise<GatewayProcess> {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: REPO_ROOT,
    // No kiosk hardware unless a test asks for it: its interlocks would refuse water until the first sensor poll.
    env: definedOnly({
      ...process.env,
      DATA_DIR: dataDir,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_MQTT_PORT: '0',
      GATEWAY_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      HW_MODE: 'off',
      SEED_DEMO: 'true',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output: string[] = [];
  const ports = await new Promise<{ mqtt_port: number; http_port: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start within ${timeoutMs} ms:\n${output.join('\n')}`)),
      timeoutMs,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${output.join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (!line.includes('"gateway listening"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { mqtt_port: number; http_port: number });
    });
  });
  const demo = await readDemoCredentials(dataDir);
  return {
    child,
    mqttPort: ports.mqtt_port,
    httpPort: ports.http_port,
    demo,
    output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
