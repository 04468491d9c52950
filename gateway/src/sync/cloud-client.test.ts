import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SYNC_PATHS } from '@tusafishe/protocol';
import { customer, KIOSK, SECRET, syncHarness } from '../../test/sync-harness.js';
import { createCloudClient } from './cloud-client.js';
import type { SyncError } from './sync-error.js';

const EMPTY_PAGE = `${JSON.stringify({ customers: [], cursor: '7', has_more: false, must_refetch: false })}\n`;

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A cloud answering every request with `answer`; its URL. */
async function listening(answer: http.RequestListener): Promise<string> {
  const server = http.createServer(answer);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A cloud that answers the stream with `write` and never ends it, and 404 to anything else (as fastify). */
function streamingCloud(write: (response: http.ServerResponse) => void): Promise<string> {
  return listening((request, response) => {
    if (!request.url?.startsWith(SYNC_PATHS.customerStream)) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Route not found"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    write(response);
  });
}

async function firstError(url: string, requestTimeoutMs = 15_000): Promise<{ pages: number; error: SyncError }> {
  const client = createCloudClient({ cloudUrl: url, kioskId: 'K1', secret: 's', requestTimeoutMs });
  let pages = 0;
  try {
    for await (const _ of client.follow({ cursor: '7', limit: 10, heartbeatS: 1 })) pages += 1;
  } catch (error) {
    return { pages, error: error as SyncError };
  }
  throw new Error('the stream ended without an error');
}

describe('the cloud client following the customer stream', () => {
  it('gives up on a stream that goes quiet for longer than a heartbeat', async () => {
    // One page, then silence: the link died without a reset (a 4G cell lost), as a Pi sees it.
    const url = await streamingCloud((response) => response.write(EMPTY_PAGE));
    const { pages, error } = await firstError(url, 200);
    expect(pages).toBe(1);
    expect(error).toMatchObject({ code: 'CLOUD_UNREACHABLE', message: expect.stringMatching(/no page for 1200 ms/) });
  });

  it('reads pages split across packets and several in one', async () => {
    const page = (cursor: number): string =>
      `${JSON.stringify({ customers: [], cursor: String(cursor), has_more: false, must_refetch: false })}\n`;
    const url = await streamingCloud((response) => {
      const both = page(1) + page(2);
      response.write(both.slice(0, 10));
      setImmediate(() => response.write(both.slice(10)));
    });
    const client = createCloudClient({ cloudUrl: url, kioskId: 'K1', secret: 's' });
    const cursors: string[] = [];
    for await (const received of client.follow({ cursor: null, limit: 10, heartbeatS: 1 })) {
      cursors.push(received.cursor);
      if (cursors.length === 2) break;
    }
    expect(cursors).toEqual(['1', '2']);
  });

  it('refuses a line that breaks the contract, and reports a cloud without the stream', async () => {
    const garbled = await streamingCloud((response) => response.write('{"customers": nope}\n'));
    expect((await firstError(garbled)).error.code).toBe('CLOUD_BAD_RESPONSE');
    const wrongShape = await streamingCloud((response) => response.write('{"customers":[],"cursor":7}\n'));
    expect((await firstError(wrongShape)).error.code).toBe('CLOUD_BAD_RESPONSE');

    // The cloud answers 404 on a path it does not serve (here under another prefix): the worker long-polls then.
    const older = await streamingCloud(() => undefined);
    const refusal = await firstError(`${older}/v0`);
    expect(refusal.error).toMatchObject({ code: 'CLOUD_REFUSED', details: { status: 404 } });
  });
});

describe('the cloud client looking up one customer', () => {
  const { cloud } = syncHarness();
  const clientOf = (cloudUrl: string, secret = SECRET, requestTimeoutMs?: number) =>
    createCloudClient({ cloudUrl, kioskId: KIOSK, secret, ...(requestTimeoutMs && { requestTimeoutMs }) });

  it('answers the record, or null when the cloud knows no such customer', async () => {
    const fake = await cloud();
    const record = fake.put(customer(1, 4_500));
    const client = clientOf(fake.url);
    expect(await client.customer(record.account_id)).toEqual(record);
    expect(await client.customer('AQP999999')).toBeNull();
  });

  it('fails as the other calls do: refused, unreachable, off contract', async () => {
    const fake = await cloud();
    const wrongSecret = clientOf(fake.url, 'not-the-secret');
    await expect(wrongSecret.customer('AQP000001')).rejects.toMatchObject({
      code: 'CLOUD_REFUSED',
      details: { status: 401 },
    });
    // A 404 from a cloud older than the route is no answer about the customer.
    const older = await streamingCloud(() => undefined);
    await expect(clientOf(older).customer('AQP000001')).rejects.toMatchObject({
      code: 'CLOUD_REFUSED',
      details: { status: 404 },
    });
    const silent = await listening(() => undefined);
    await expect(clientOf(silent, SECRET, 200).customer('AQP000001')).rejects.toMatchObject({
      code: 'CLOUD_UNREACHABLE',
    });
    const offContract = await listening((_, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"customer":{"account_id":"AQP000001"}}'),
    );
    await expect(clientOf(offContract).customer('AQP000001')).rejects.toMatchObject({ code: 'CLOUD_BAD_RESPONSE' });
  });
});
