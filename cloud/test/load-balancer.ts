import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether Debian's `haproxy` is installed (`.ci/run` installs it). */
export function haproxyInstalled(): boolean {
  return spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0;
}

export interface RunningLoadBalancer {
  /** http://127.0.0.1:<port>, on a port the OS chose. */
  url: string;
  /** Sets the backends (each `host:port`, named `a`, `b`, …) and starts HAProxy; call once. */
  start(backends: string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * HAProxy balancing HTTP round-robin over cloud instances on 127.0.0.1, as in front of a real
 * fleet. Its port is known before the instances start (they are told it as their public URL):
 * HAProxy cannot bind port 0, so the listening socket is made here on a port the OS picks and
 * handed to HAProxy as `fd@3`. Each answer names the instance that gave it (`X-Served-By`).
 */
export async function loadBalancer(): Promise<RunningLoadBalancer> {
  const socket: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.listen(0, '127.0.0.1', resolve);
  });
  const address = socket.address();
  if (!address || typeof address === 'string') throw new Error('no address for the load balancer');
  const dir = await mkdtemp(join(tmpdir(), 'tusafishe-lb-'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${address.port}`,
    async start(backends) {
      const config = join(dir, 'haproxy.cfg');
      await writeFile(config, haproxyConfig(backends));
      // The socket's descriptor; Node keeps it on the handle (not a public API, but stable on Linux).
      const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
      let output = '';
      child = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe', fd] });
      child.stdout?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
      let gone = false;
      exited = new Promise((resolve) =>
        child?.once('exit', () => {
          gone = true;
          resolve();
        }),
      );
      // HAProxy holds its own copy of the socket now; this process must stop accepting on it.
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await waitForHealth(`http://127.0.0.1:${address.port}/health`, () => (gone ? output : undefined));
    },
    async close() {
      child?.kill('SIGTERM');
      await exited;
      if (socket.listening) await new Promise<void>((resolve) => socket.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function haproxyConfig(backends: string[]): string {
  const servers = backends.map((backend, i) => `  server ${String.fromCharCode(97 + i)} ${backend}`);
  return `global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  # Longer than a kiosk's long-poll (wait_s ≤ 30).
  timeout client 60s
  timeout server 60s
frontend clouds
  bind fd@3
  default_backend instances
backend instances
  balance roundrobin
  http-response set-header X-Served-By %[srv_name]
${servers.join('\n')}
`;
}

/** Waits until `url` answers 200 through HAProxy; `exited` returns HAProxy's output once it has exited. */
async function waitForHealth(url: string, exited: () => string | undefined): Promise<void> {
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    const output = exited();
    if (output !== undefined) throw new Error(`haproxy exited: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
