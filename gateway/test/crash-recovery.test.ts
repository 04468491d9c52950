import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthApproved } from '@tusafishe/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../src/store/store.js';
import { spawnGateway, TestDispenser, type GatewayProcess } from './fixtures.js';

const running: GatewayProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function start(dataDir: string): Promise<GatewayProcess> {
  const gateway = await spawnGateway(dataDir);
  running.push(gateway);
  return gateway;
}

describe('gateway process killed mid-dispense', () => {
  it('keeps the approval across SIGKILL and records the late completion exactly once', {
    timeout: 90_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tusafishe-crash-'));
    dirs.push(dataDir);

    const first = await start(dataDir);
    const before = await TestDispenser.connect(first, 'D1');
    const approval = (await before.authorise(before.request('0700000101', 5000))) as AuthApproved;
    expect(approval).toMatchObject({ approved: true, approved_ml: 5000 });

    // Power cut between approval and completion: no chance to flush anything.
    await first.stop('SIGKILL');
    await before.client.endAsync(true);
    const afterCrash = Store.open(dataDir);
    expect(afterCrash.holds.heldMlFor('TSF000101', Date.now())).toBe(5000);
    afterCrash.close();

    const second = await start(dataDir);
    const after = await TestDispenser.connect(second, 'D1');
    const report = after.completion(approval, 4000);
    const ack = await after.complete(report);
    expect(ack).toMatchObject({ session_id: approval.session_id, recorded_ml: 4000, balance_ml: 16_000 });
    // The dispenser repeats its report until acknowledged: the same event, nothing new.
    expect((await after.complete(report)).event_id).toBe(ack.event_id);
    await after.close();
    await second.stop('SIGTERM');
    expect(second.child.exitCode).toBe(0);

    const store = Store.open(dataDir);
    const dispenses = store.ledger.eventsFor('TSF000101').filter((e) => e.type === 'dispense');
    expect(dispenses).toEqual([
      expect.objectContaining({ event_id: ack.event_id, amount_ml: -4000, source_id: approval.session_id }),
    ]);
    expect(store.holds.heldMlFor('TSF000101', Date.now())).toBe(0);
    store.close();
  });
});
