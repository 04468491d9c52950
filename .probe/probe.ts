import { mkdtempSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, type CustomerRecord } from '@tusafishe/protocol';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { pino } from 'pino';
import { GatewayEvents } from '../gateway/src/events.js';
import { resolveSettings } from '../gateway/src/settings.js';
import { Store } from '../gateway/src/store/store.js';
import { SyncStore } from '../gateway/src/sync/sync-store.js';
import { DispenseFlow } from '../gateway/src/dispense/dispense-flow.js';
import { Interlocks } from '../gateway/src/dispense/interlocks.js';

const dir = mkdtempSync(join(tmpdir(), 'probe-'));
const store = Store.open(dir);
const sync = new SyncStore(store);
const pin_hash = await hashSecret('1234');
const N = 20_000;
const rec = (n: number, balance: number, version: number): CustomerRecord => ({
  account_id: `TSF${String(n).padStart(6, '0')}`, phone: `+2547${String(n).padStart(8, '0')}`, name: `C ${n}`, pin_hash,
  status: 'active', expires_at: null, daily_limit_ml: null, allowed_kiosks: null, balance_ml: balance, locked_until: null, version,
});
for (let i = 0; i < N; i += 1000) store.applyCustomerRecords(Array.from({ length: 1000 }, (_, k) => rec(i + k + 1, 1_000_000, 1)));
store.db.prepare("UPDATE sync_state SET refetching = 0").run();
store.db.pragma('wal_checkpoint(TRUNCATE)');
let clock = Date.now();
store.setLastCloudContact(clock);
const flow = new DispenseFlow({ store, settings: resolveSettings({}), kioskId: 'K1', interlocks: new Interlocks(), events: new GatewayEvents(), logger: pino({ level: 'silent' }), now: () => clock });
const wal = () => statSync(join(dir, 'gateway.db-wal')).size;
const versions = new Map<number, number>();
const totals = { decision: 0, completion: 0, ack: 0 };
const pages: Record<string, number[]> = { decision: [], completion: [], ack: [] };
const grab = (step: keyof typeof totals, from: number) => {
  const buf = readFileSync(join(dir, 'gateway.db-wal'));
  for (let o = from; o + 1048 <= buf.length; o += 1048) pages[step].push(buf.readUInt32BE(o));
};
const D = 400;
for (let i = 0; i < D; i++) {
  const n = 1 + Math.floor(Math.random() * N);
  clock += 30_000;
  let w = wal();
  const r = await flow.authorise({ request_id: newId(), phone: `+2547${String(n).padStart(8, '0')}`, pin: '1234', requested_ml: 5000 }, null);
  if (!r.approved) throw new Error(JSON.stringify(r));
  totals.decision += wal() - w; grab('decision', w); w = wal();
  const ack = await flow.complete({ session_id: r.session_id, request_id: r.request_id, delivered_ml: 5000 }, null);
  totals.completion += wal() - w; grab('completion', w); w = wal();
  const v = (versions.get(n) ?? 1) + 1; versions.set(n, v);
  sync.applyPushResponse({ acked: [ack.event_id], rejected: [], balances: [{ account_id: rec(n, 0, 0).account_id, balance_ml: 1_000_000 - 5000 * (v - 1), version: v }] }, clock);
  totals.ack += wal() - w; grab('ack', w);
}
for (const [k, v] of Object.entries(totals)) console.log(k, (v / D / 1048).toFixed(2), 'frames/dispense');

const owner = new Map<number, string>();
for (const row of store.db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[]) owner.set(row.pageno, row.name);
for (const [step, list] of Object.entries(pages)) {
  const by: Record<string, number> = {};
  for (const p of list) by[owner.get(p) ?? (p === 1 ? 'page1' : 'free/other')] = (by[owner.get(p) ?? (p === 1 ? 'page1' : 'free/other')] ?? 0) + 1;
  console.log(step, Object.entries(by).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / D).toFixed(2)}`).join(', '));
}
