/**
 * `npm start`'s link between its gateway and its cloud, which anyone can cut and restore while
 * both keep running (`npm run link -- cut|restore|status`), to try the kiosk offline. Demo only:
 * a gateway started any other way talks to its CLOUD_URL directly. The link is the fleet suite's
 * partition proxy (cutting resets every connection, as a dropped 4G link does); its control
 * endpoint listens on loopback, at the port written to DATA_DIR/demo-link.json, and `npm start`
 * takes the same commands as keys in its terminal.
 */
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as z from 'zod';
import { startPartitionProxy } from '@tusafishe/fleet/partition-proxy';

export const LinkCommand = z.enum(['cut', 'restore', 'status']);
export type LinkCommand = z.infer<typeof LinkCommand>;
export const LinkState = z.object({ link: z.enum(['up', 'cut']) });
export type LinkState = z.infer<typeof LinkState>;
export const LinkControl = z.object({ port: z.number().int().min(1).max(65_535) });

/** Where `npm start` says where the link's control endpoint listens. */
export const linkControlFile = (dataDir: string): string => join(dataDir, 'demo-link.json');

/** The method each command is sent with: reading the state changes nothing. */
export const linkMethod = (command: LinkCommand): 'GET' | 'POST' => (command === 'status' ? 'GET' : 'POST');

/** How `npm run link` and `npm start`'s keys say it. */
export const describeLink = ({ link }: LinkState): string =>
  `kiosk ↔ cloud link: ${link === 'cut' ? 'cut (the gateway works offline)' : 'up'}`;

export interface DemoLink {
  /** The gateway's CLOUD_URL: the cloud, through the link. */
  url: string;
  /** Cuts, restores or reads the link (what the control endpoint and `npm start`'s keys do). */
  apply(command: LinkCommand): LinkState;
  close(): Promise<void>;
}

export async function startDemoLink(options: { cloudUrl: string; dataDir: string }): Promise<DemoLink> {
  const cloud = new URL(options.cloudUrl);
  const proxy = await startPartitionProxy({ host: cloud.hostname, port: Number(cloud.port) });
  const apply = (command: LinkCommand): LinkState => {
    if (command === 'cut') proxy.cut();
    if (command === 'restore') proxy.restore();
    return { link: proxy.mode.kind === 'cut' ? 'cut' : 'up' };
  };
  const server = createServer((request, response) => {
    const command = LinkCommand.safeParse(request.url?.slice(1));
    if (!command.success || request.method !== linkMethod(command.data)) {
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'POST /cut, POST /restore or GET /status' }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(apply(command.data)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const file = linkControlFile(options.dataDir);
  writeFileSync(file, JSON.stringify({ port: (server.address() as AddressInfo).port }));
  return {
    url: proxy.url,
    apply,
    async close() {
      rmSync(file, { force: true });
      server.close();
      await proxy.close();
    },
  };
}
