import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

type LinkMode = { kind: 'up' } | { kind: 'cut' } | { kind: 'delay'; ms: number };

export interface PartitionProxy {
  /** Where the gateway should connect instead of the target. */
  readonly port: number;
  readonly url: string;
  readonly mode: LinkMode;
  /** Resets every open connection and every new one until restored. */
  cut(): void;
  /** Holds each chunk back `ms` in both directions (new and open connections). */
  delay(ms: number): void;
  restore(): void;
  /** Connections accepted and forwarded so far. */
  readonly forwarded: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy between a gateway and the cloud that a test can cut, slow down and restore,
 * like a kiosk's 4G link dropping out. Cutting resets sockets (both ends see ECONNRESET),
 * so no request half-succeeds silently without the client noticing.
 */
export async function startPartitionProxy(target: { host: string; port: number }): Promise<PartitionProxy> {
  let mode: LinkMode = { kind: 'up' };
  let forwarded = 0;
  const open = new Set<Socket>();

  const pipeWithDelay = (from: Socket, to: Socket): void => {
    let tail = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (mode.kind === 'delay') {
        const ms = mode.ms;
        from.pause();
        tail = tail.then(async () => {
          await sleep(ms);
          if (!to.destroyed) to.write(chunk);
          from.resume();
        });
      } else {
        tail = tail.then(() => void (to.destroyed || to.write(chunk)));
      }
    });
    from.on('end', () => void tail.then(() => to.end()));
  };

  const server: Server = createServer((client) => {
    if (mode.kind === 'cut') {
      client.resetAndDestroy();
      return;
    }
    forwarded += 1;
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    pipeWithDelay(client, upstream);
    pipeWithDelay(upstream, client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');

  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    get mode() {
      return mode;
    },
    get forwarded() {
      return forwarded;
    },
    cut() {
      mode = { kind: 'cut' };
      for (const socket of open) socket.resetAndDestroy();
    },
    delay(ms) {
      mode = { kind: 'delay', ms };
    },
    restore() {
      mode = { kind: 'up' };
    },
    async close() {
      for (const socket of open) socket.destroy();
      server.close();
      if (server.listening) await once(server, 'close');
    },
  };
}
