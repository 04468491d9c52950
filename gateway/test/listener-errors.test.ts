import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, TestDispenser, type TestGateway } from './fixtures.js';

let gateway: TestGateway | undefined;
afterEach(() => gateway?.close());

describe('a live-feed listener that throws', () => {
  it('does not stop the dispense it announces: approved, recorded once and acknowledged', async () => {
    gateway = await startTestGateway();
    const announced: string[] = [];
    for (const name of ['authorisation', 'dispense-recorded'] as const)
      gateway.events.on(name, () => {
        throw new Error(`broken ${name} listener`);
      });
    gateway.events.on('dispense-recorded', (d) => announced.push(d.session.session_id));
    gateway.events.once('dispense-recorded', () => announced.push('once'));

    const dispenser = await TestDispenser.connect(gateway, 'D1');
    try {
      for (const ml of [1500, 500]) {
        const approval = await dispenser.authorise(dispenser.request('0700000101', ml));
        if (!approval.approved) throw new Error(`refused: ${approval.reason}`);
        expect(await dispenser.complete(dispenser.completion(approval, ml))).toMatchObject({ recorded_ml: ml });
        expect(announced).toContain(approval.session_id);
      }
    } finally {
      await dispenser.close();
    }
    expect(announced.filter((a) => a === 'once')).toHaveLength(1);
    expect(gateway.store.ledger.eventsFor('TSF000101').filter((e) => e.type === 'dispense')).toHaveLength(2);
  });
});
