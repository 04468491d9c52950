import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { createCustomer } from '../src/customers/customers.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { backends } from './backends.js';
import { signInAs, type ConsoleSession } from './console-session.js';
import { dispenseEvent, kioskClient } from './kiosk-client.js';

/** Resolves with what the stream carried once it holds `text` (the caller's timeout bounds it). */
async function streamUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<string> {
  const decoder = new TextDecoder();
  let received = '';
  while (!received.includes(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended without ${text}: ${received}`);
    received += decoder.decode(value, { stream: true });
  }
  return received;
}

// On the server: two instances on one database, the console on B, the kiosk pushing to A. PGlite
// is one process's database, so there one instance plays both parts (its NOTIFY is in process).
describe.each(backends())('the console live feed on $name', (backend) => {
  const instances: RunningCloud[] = [];
  let kiosk: KioskCredential;
  let accountId: string;
  let support: ConsoleSession;

  beforeAll(async () => {
    const database = backend.fresh();
    for (let i = 0; i < (backend.name === 'postgres' ? 2 : 1); i += 1) {
      instances.push(
        await startCloud({
          ...database,
          port: 0,
          logger: false,
          providers: { statusPollIntervalMs: 0 },
          // The safety poll never comes within the test: only a notification can deliver.
          fleet: { rulesIntervalMs: 0, liveSafetyPollMs: 600_000 },
        }),
      );
    }
    kiosk = await createKiosk(instances[0]!.db, { kioskId: 'LF-K1' });
    accountId = (await createCustomer(instances[0]!.db, { phone: '+254711000321', name: 'Live Feed', pin: '4321' }))
      .account_id;
    support = await signInAs(instances.at(-1)!, 'customer_service');
  }, 180_000);
  afterAll(async () => {
    for (const cloud of instances) await cloud.close();
    await backend.cleanup();
  });

  it('shows a dispense pushed through one instance to a console connected to the other', async () => {
    const [a, b] = [instances[0]!, instances.at(-1)!];
    const stream = await fetch(`${b.url}/console/api/live`, { headers: { cookie: support.cookie } });
    const reader = stream.body!.getReader();
    try {
      await streamUntil(reader, ': connected');
      // The first may come with B's first read as a console connects; once it is here that read
      // is over, so the second can reach B only by the notification A sends.
      for (const ml of [7_500, 12_000]) {
        const dispense = dispenseEvent('LF-K1', accountId, ml);
        expect((await kioskClient(a.url, kiosk).push([dispense])).status).toBe(200);
        const received = await streamUntil(reader, dispense.event_id);
        expect(received).toMatch(new RegExp(`event: dispense\\ndata: \\{[^\\n]*"event_id":"${dispense.event_id}"`));
        expect(received).toContain(`"volume_ml":${ml}`);
      }
    } finally {
      await reader.cancel();
    }
  }, 60_000);
});
