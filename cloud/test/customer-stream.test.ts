import http from 'node:http';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_PATHS, type PullResponse } from '@tusafishe/protocol';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { backends } from './backends.js';
import { creditedCustomer } from './test-customers.js';

let phoneSeq = 0;
const nextPhone = (): string => `+2547001${String(10000 + (phoneSeq += 1)).slice(-5)}`;

/** A kiosk following the stream over plain HTTP: its pages as they arrive, and the bytes on the wire. */
class Follower {
  readonly pages: PullResponse[] = [];
  wireBytes = 0;
  headers: http.IncomingHttpHeaders = {};
  readonly ended: Promise<void>;
  private readonly request: http.ClientRequest;
  private waiters: (() => void)[] = [];

  constructor(url: string, credential: KioskCredential, query: string, acceptEncoding?: string) {
    const authorization = `Basic ${Buffer.from(`${credential.kioskId}:${credential.secret}`).toString('base64')}`;
    const headers = { authorization, ...(acceptEncoding && { 'accept-encoding': acceptEncoding }) };
    let end: () => void;
    this.ended = new Promise((resolve) => (end = resolve));
    this.request = http.get(`${url}${SYNC_PATHS.customerStream}?${query}`, { headers }, (response) => {
      this.headers = response.headers;
      response.on('data', (chunk: Buffer) => (this.wireBytes += chunk.length));
      const body = response.headers['content-encoding'] === 'gzip' ? response.pipe(createGunzip()) : response;
      let pending = '';
      body.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n')) {
          this.pages.push(JSON.parse(pending.slice(0, at)) as PullResponse);
          pending = pending.slice(at + 1);
        }
        for (const wake of this.waiters.splice(0)) wake();
      });
      body.on('end', () => end());
      response.on('close', () => end());
    });
    this.request.on('error', () => end());
  }

  /** Resolves once `test` holds of the pages received (checked at every arrival). */
  async until(test: (pages: PullResponse[]) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test(this.pages)) {
      if (Date.now() > deadline)
        throw new Error(`stream: not there after ${timeoutMs} ms: ${JSON.stringify(this.pages)}`);
      await Promise.race([new Promise<void>((wake) => this.waiters.push(wake)), this.ended]);
      if (!test(this.pages) && (await isSettled(this.ended))) throw new Error('stream ended');
    }
  }

  close(): void {
    this.request.destroy();
  }
}

async function isSettled(promise: Promise<void>): Promise<boolean> {
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => setImmediate(() => resolve(false))),
  ]);
}

const accounts = (pages: PullResponse[]): string[] => pages.flatMap((page) => page.customers.map((c) => c.account_id));

describe.each(backends())('the customer stream on $name', (backend) => {
  let cloud: RunningCloud;
  let kiosk: KioskCredential;

  beforeAll(async () => {
    cloud = await startCloud({ ...backend.fresh(), port: 0, logger: false });
    kiosk = await createKiosk(cloud.db, { kioskId: 'KIOSK-S' });
  });
  afterAll(async () => {
    await cloud?.close();
    await backend.cleanup();
  });

  const customer = async (): Promise<string> =>
    (await creditedCustomer(cloud, { phone: nextPhone(), name: 'Stream Customer', pin: '4321' }, 5_000)).account_id;

  it('sends what a kiosk lacks in pages, then each change as it is made, on one gzipped response', async () => {
    const before = [await customer(), await customer(), await customer()];
    const follower = new Follower(cloud.url, kiosk, 'cursor=0&limit=2&wait_s=20', 'gzip');
    try {
      await follower.until((pages) => before.every((id) => accounts(pages).includes(id)));
      expect(follower.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(follower.headers['content-encoding']).toBe('gzip');
      // The backlog in pages of two, the last one saying there is no more.
      expect(follower.pages[0]?.has_more).toBe(true);
      const caughtUp = follower.pages.length;
      expect(follower.pages.at(-1)?.has_more).toBe(false);

      const later = await customer();
      await follower.until((pages) => accounts(pages).includes(later));
      const arrived = follower.pages.slice(caughtUp);
      expect(accounts(arrived)).toEqual([later]);
      // Cursors only move forward, and every page picks up where the last left off.
      const cursors = follower.pages.map((page) => Number(page.cursor));
      expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
      expect(follower.pages.every((page) => !page.must_refetch)).toBe(true);
    } finally {
      follower.close();
    }
  });

  it('sends an empty page at the cursor after wait_s without a change: the heartbeat', async () => {
    const follower = new Follower(cloud.url, kiosk, 'cursor=0&limit=5000&wait_s=1');
    try {
      await follower.until((pages) => pages.length >= 3);
      const [, second, third] = follower.pages;
      expect(follower.headers['content-encoding']).toBeUndefined();
      expect(second).toEqual({
        customers: [],
        cursor: follower.pages[0]?.cursor,
        has_more: false,
        must_refetch: false,
      });
      expect(third).toEqual(second);
    } finally {
      follower.close();
    }
  });

  it('tells a kiosk with a cursor the cloud never issued to refetch, and ends', async () => {
    const follower = new Follower(cloud.url, kiosk, 'cursor=99999999&wait_s=20');
    await follower.ended;
    expect(follower.pages).toEqual([{ customers: [], cursor: '0', has_more: false, must_refetch: true }]);
  });

  it('refuses a kiosk without its credential, and ends a stream whose secret was rotated', async () => {
    const stranger = new Follower(cloud.url, { kioskId: kiosk.kioskId, secret: 'not-the-secret' }, 'wait_s=1');
    await stranger.ended;
    expect(stranger.pages).toEqual([]);

    const rotated = await createKiosk(cloud.db, { kioskId: 'KIOSK-S-ROTATED' });
    const follower = new Follower(cloud.url, rotated, 'cursor=0&limit=5000&wait_s=1');
    await follower.until((pages) => pages.length >= 1);
    // As `npm run provision -- kiosk rotate-secret` does it, from another process.
    await cloud.db.query('UPDATE kiosks SET credential_hash = $2 WHERE kiosk_id = $1', [
      rotated.kioskId,
      await hashSecret('a-new-secret-for-the-kiosk'),
    ]);
    await follower.ended;
  });

  it("ends a kiosk's stream when the kiosk opens another (a restarted gateway), and serves the new one", async () => {
    const first = new Follower(cloud.url, kiosk, 'cursor=0&limit=5000&wait_s=20');
    await first.until((pages) => pages.length >= 1);
    const second = new Follower(cloud.url, kiosk, `cursor=${first.pages.at(-1)?.cursor}&wait_s=20`);
    try {
      await first.ended;
      const later = await customer();
      await second.until((pages) => accounts(pages).includes(later));
      // Another kiosk's stream is its own.
      const other = await createKiosk(cloud.db, { kioskId: 'KIOSK-S-OTHER' });
      const beside = new Follower(cloud.url, other, 'cursor=0&limit=5000&wait_s=20');
      await beside.until((pages) => accounts(pages).includes(later));
      const again = await customer();
      await second.until((pages) => accounts(pages).includes(again));
      beside.close();
    } finally {
      second.close();
    }
  });

  it('answers at once, and lets the cloud shut down while kiosks follow', async () => {
    const own = await startCloud({ ...backend.fresh(), port: 0, logger: false });
    const followers: Follower[] = [];
    for (const kioskId of ['KIOSK-S-CLOSING-1', 'KIOSK-S-CLOSING-2', 'KIOSK-S-CLOSING-3']) {
      const credential = await createKiosk(own.db, { kioskId });
      followers.push(new Follower(own.url, credential, 'cursor=0&limit=5000&wait_s=30'));
    }
    // Nothing to send yet, and a heartbeat 30 s away: the first (empty) page comes at once all the same.
    await Promise.all(followers.map((follower) => follower.until((pages) => pages.length >= 1, 10_000)));
    await own.close();
    await Promise.all(followers.map((follower) => follower.ended));
  });
});
