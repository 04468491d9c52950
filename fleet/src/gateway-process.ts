import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_ENTRY = 'gateway/src/main.ts';
/** The technician account each fleet gateway is given, to read its `/api/sync`. */
const FLEET_TECHNICIAN = { username: 'fleet', password: 'fleet-technician-pw' };

export interface GatewayProcessOptions {
  kioskId: string;
  dataDir: string;
  /** Extra environment (CLOUD_URL, KIOSK_SECRET, settings). */
  env: Record<string, string>;
  /** Relative to the repository root. */
  entry?: string;
  /** Runs the gateway under this command and its arguments (e.g. strace), which then starts Node. */
  wrapper?: string[];
  /** Node's flags before the entry. Default `--import tsx` (a bundled entry needs none). */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

/** Picks a free loopback port (bound then released, so it can be reused after restarts). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * One real gateway as an OS process (`node --import tsx`), with fixed ports across
 * restarts so dispensers reconnect to the same broker. Output goes to
 * `<dataDir>/gateway.log` for post-mortems.
 */
export class GatewayProcess {
  readonly kioskId: string;
  readonly dataDir: string;
  mqttPort = 0;
  httpPort = 0;
  kills = 0;
  starts = 0;
  private child: ChildProcess | null = null;
  private cookie: string | null = null;
  private log: WriteStream;

  constructor(private readonly options: GatewayProcessOptions) {
    this.kioskId = options.kioskId;
    this.dataDir = options.dataDir;
    mkdirSync(options.dataDir, { recursive: true });
    this.log = createWriteStream(join(options.dataDir, 'gateway.log'), { flags: 'a' });
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** The running process's id (for /proc figures); undefined when stopped. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Spawns the process and resolves once its HTTP API answers. */
  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.kioskId} is already running`);
    if (this.mqttPort === 0) [this.mqttPort, this.httpPort] = [await freePort(), await freePort()];
    const [command, ...args] = [
      ...(this.options.wrapper ?? []),
      process.execPath,
      ...(this.options.nodeArgs ?? ['--import', 'tsx']),
      this.options.entry ?? DEFAULT_ENTRY,
    ];
    const child = spawn(command!, args, {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        TECHNICIAN_USERNAME: FLEET_TECHNICIAN.username,
        TECHNICIAN_PASSWORD: FLEET_TECHNICIAN.password,
        ...this.options.env,
        DATA_DIR: this.dataDir,
        KIOSK_ID: this.kioskId,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_MQTT_PORT: String(this.mqttPort),
        GATEWAY_HTTP_PORT: String(this.httpPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.starts += 1;
    this.log.write(`--- start #${this.starts} pid ${child.pid} at ${new Date().toISOString()}\n`);
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    await this.waitReady(this.options.readyTimeoutMs ?? 120_000);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.child)
        throw new Error(`${this.kioskId} exited while starting; see ${join(this.dataDir, 'gateway.log')}`);
      try {
        const response = await fetch(`${this.httpUrl}/health`, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.kioskId} not ready after ${timeoutMs} ms; see ${join(this.dataDir, 'gateway.log')}`);
  }

  /** SIGKILL: no shutdown code runs, like a power cut. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.kills += 1;
    const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve();
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  /** Orderly stop (SIGTERM), for the end of a test. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  async close(): Promise<void> {
    await this.stop();
    this.log.end();
  }

  /** GET of a technician API path, signed in as the fleet's technician (signs in again after a 401). */
  async json<T>(path: string): Promise<T> {
    const get = () =>
      fetch(`${this.httpUrl}${path}`, {
        headers: this.cookie ? { cookie: this.cookie } : {},
        signal: AbortSignal.timeout(5000),
      });
    let response = await get();
    if (response.status === 401) {
      await this.signIn();
      response = await get();
    }
    if (!response.ok) throw new Error(`${this.kioskId} ${path}: ${response.status}`);
    return (await response.json()) as T;
  }

  private async signIn(): Promise<void> {
    const response = await fetch(`${this.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(FLEET_TECHNICIAN),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`${this.kioskId} sign-in: ${response.status}`);
    this.cookie = response.headers.getSetCookie()[0]?.split(';')[0] ?? null;
  }
}
