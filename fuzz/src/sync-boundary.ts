import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CustomerRecord } from '@tusafishe/protocol';
import { Store } from '@tusafishe/gateway';
import { createCloudClient, type PulledPage } from '@tusafishe/gateway/boundaries';
import { SyncError } from '@tusafishe/gateway/boundaries';
import { SyncStore } from '@tusafishe/gateway/boundaries';
import { anyJson, fieldValue, number, recordOf, text } from './inputs.js';
import { crash, fail, newTally, type Boundary } from './tally.js';

/** A customer record as a cloud might send it: mostly right, any field possibly wrong. */
const customerRecord = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      account_id: fc.oneof(
        fc.constantFrom('TSF000101', 'TSF000102', 'TSF000103'),
        fc.stringMatching(/^[A-Z0-9]{4,16}$/),
      ),
      phone: fc.oneof(fc.constantFrom('+254700000101', '+256771000001'), text),
      name: fc.oneof(fc.constant('Fuzz Customer'), text),
      pin_hash: fc.oneof(fc.constant('$scrypt$ln=10,r=8,p=1$c2FsdA$a2V5'), text),
      status: fc.oneof(fc.constantFrom('active', 'inactive', 'suspended'), text),
      expires_at: fc.oneof(fc.constant(null), number),
      daily_limit_ml: fc.oneof(fc.constant(null), number),
      allowed_kiosks: fc.oneof(fc.constant(null), fc.array(fc.oneof(fc.constant('K1'), text), { maxLength: 3 })),
      balance_ml: number,
      locked_until: fc.oneof(fc.constant(null), number),
      version: fc.oneof(fc.nat(1_000_000), number),
      usage_day: fc.option(fc.oneof(fc.constant('2026-11-30'), text), { nil: undefined }),
      used_today_ml: fc.option(number, { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: recordOf(['account_id', 'phone', 'version', 'balance_ml', 'status']) },
  { weight: 1, arbitrary: fieldValue },
);

/** A pull page: the envelope right or wrong, its records any of the above. */
const page = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      customers: fc.array(customerRecord, { maxLength: 6 }),
      cursor: fc.oneof(fc.nat().map(String), text),
      has_more: fc.boolean(),
      must_refetch: fc.constant(false),
    }),
  },
  { weight: 1, arbitrary: recordOf(['customers', 'cursor', 'has_more', 'must_refetch']) },
  { weight: 1, arbitrary: anyJson },
);

/**
 * The gateway's side of a pull: the page goes through the real client (over an injected fetch)
 * and into the real store. Invariants: the client either refuses the whole page with a
 * SyncError or splits it; what it passes is valid and is applied without an error; what the
 * replica holds afterwards is valid.
 */
const syncPages: Boundary = {
  names: ['sync-pages'],
  async run(runs, seed) {
    const tally = newTally('sync-pages');
    const dataDir = await mkdtemp(join(tmpdir(), 'tusafishe-fuzz-sync-'));
    const store = Store.open(dataDir);
    const sync = new SyncStore(store);
    let body = '';
    const client = createCloudClient({
      cloudUrl: 'http://cloud.invalid',
      kioskId: 'K1',
      secret: 'fuzz',
      fetch: async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
    });
    try {
      await fc.assert(
        fc.asyncProperty(page, async (value) => {
          tally.inputs += 1;
          body = JSON.stringify(value);
          let pulled: PulledPage;
          try {
            pulled = await client.pull({ cursor: null, limit: 50, waitS: 0 });
          } catch (error) {
            if (!(error instanceof SyncError)) crash(tally, error, value);
            return;
          }
          for (const record of pulled.customers) {
            if (!CustomerRecord.safeParse(record).success) fail(tally, 'the client passed an invalid record', record);
          }
          try {
            await sync.applyPage(pulled, Date.now());
          } catch (error) {
            fail(tally, `applying a validated page threw ${String(error)}`, value);
          }
        }),
        { numRuns: runs, seed, endOnFailure: true },
      );
      const held = store.db.prepare('SELECT account_id FROM customers').all() as { account_id: string }[];
      for (const { account_id: accountId } of held) {
        const record = store.customers.findByAccount(accountId);
        if (!CustomerRecord.safeParse(record).success) fail(tally, 'the replica holds an invalid record', record);
      }
    } finally {
      store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
    return [tally];
  },
};

export function syncBoundaries(): Boundary[] {
  return [syncPages];
}
