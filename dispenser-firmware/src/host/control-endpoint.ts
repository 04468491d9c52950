import { createConnection, createServer, type Socket } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import * as z from 'zod/mini';
import { decodeMessage } from '@tusafishe/protocol';
import type { DispenserPanel, DispenserPanelView } from './dispenser-panel.js';

/**
 * A simulated dispenser's front panel on a loopback TCP port, so a terminal can use the
 * dispenser `npm start` runs instead of starting a second client with the same broker id
 * (which would kick the first off). The port is listed in a small file in the dispenser's
 * data dir. Newline-delimited JSON: the client sends commands, the server sends the view
 * on connect and on every change.
 */
const ControlFile = z.object({ port: z.int().check(z.minimum(1), z.maximum(65_535)), pid: z.int() });

const Command = z.union([
  z.object({ keys: z.string().check(z.maxLength(64)) }),
  z.object({ flow_rate_ml_per_s: z.number().check(z.minimum(0), z.maximum(100_000)) }),
]);

const View = z.object({
  lcd: z.array(z.string()),
  valveOpen: z.boolean(),
  state: z.string(),
  connected: z.boolean(),
  flowRateMlPerSecond: z.number(),
});

export interface ControlEndpoint {
  close(): Promise<void>;
}

export async function openControlEndpoint(panel: DispenserPanel, file: string): Promise<ControlEndpoint> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const send = () => socket.write(`${JSON.stringify(panel.view())}\n`);
    const unsubscribe = panel.onChange(send);
    socket.on('close', () => {
      unsubscribe();
      sockets.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    const commands = createInterface({ input: socket });
    // readline re-emits the socket's errors: a terminal that quits mid-write must not crash the kiosk.
    commands.on('error', () => socket.destroy());
    commands.on('line', (line) => {
      const command = decodeMessage(Command, line);
      if (!command.ok) return void socket.write(`${JSON.stringify({ error: command.error })}\n`);
      try {
        if ('keys' in command.value) void panel.press(command.value.keys);
        else panel.setFlowRate(command.value.flow_rate_ml_per_s);
      } catch (error) {
        socket.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
      }
    });
    send();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('control endpoint has no TCP address');
  writeFileSync(file, JSON.stringify({ port: address.port, pid: process.pid }));
  return {
    close: async () => {
      rmSync(file, { force: true });
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface AttachedPanel extends DispenserPanel {
  /** Resolves when the dispenser's process goes away. */
  readonly closed: Promise<void>;
  close(): void;
}

/** Attaches to a running simulated dispenser; undefined when none is listed or it no longer answers. */
export async function attachToControlEndpoint(file: string): Promise<AttachedPanel | undefined> {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const listed = decodeMessage(ControlFile, raw);
  if (!listed.ok) return undefined;
  const socket = createConnection({ host: '127.0.0.1', port: listed.value.port });
  const connected = await new Promise<boolean>((resolve) => {
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
  });
  if (!connected) return undefined;
  let current: DispenserPanelView | undefined;
  const listeners = new Set<() => void>();
  const firstView = new Promise<boolean>((resolve) => {
    const views = createInterface({ input: socket });
    views.on('error', () => socket.destroy());
    views.on('line', (line) => {
      const next = decodeMessage(View, line);
      if (!next.ok) return;
      current = next.value as DispenserPanelView;
      resolve(true);
      for (const listener of listeners) listener();
    });
    socket.once('close', () => resolve(false));
  });
  if (!(await firstView) || !current) {
    socket.destroy();
    return undefined;
  }
  const send = (command: z.infer<typeof Command>) => socket.write(`${JSON.stringify(command)}\n`);
  return {
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
    press: async (keys) => void send({ keys }),
    setFlowRate: (mlPerSecond) => send({ flow_rate_ml_per_s: mlPerSecond }),
    view: () => current as DispenserPanelView,
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => socket.destroy(),
  };
}
