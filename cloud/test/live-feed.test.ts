import { newId } from '@tusafishe/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type CloudOptions, type RunningCloud } from '../src/cloud.js';
import { createCustomer } from '../src/customers/customers.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { backends } from './backends.js';
import { signInAs, type ConsoleSession } from './console-session.js';
import { dispenseEvent, kioskClient } from './kiosk-client.js';

/** Resolves with what the stream carried once it holds `text` (the caller's timeout bounds it). */
async function streamUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string | RegExp): Promise<string> {
  const decoder = new TextDecoder();
  let received = '';
  while (typeof text === 'string' ? !received.includes(text) : !text.test(received)) {
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
  let database: CloudOptions;

  beforeAll(async () => {
    database = backend.fresh();
    for (let i = 0; i < (backend.name === 'postgres' ? 2 : 1); i += 1) {
      instances.push(
        await startCloud({
          ...database,
          port: 0,
          logger: false,
          providers: { statusPollIntervalMs: 0 },
          // The safety poll never comes within the test: only a notification can deliver.
          fleet: { rulesIntervalMs: 0, liveSafetyPollMs: 3_600_000 },
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

  it('shows rows written by plain SQL outside the cloud at once: the tables’ triggers notify', async () => {
    const feedCloud = instances.at(-1)!;
    // Another tool or a manual fix, on its own connection; PGlite is one process's database, so
    // there the SQL goes through the cloud's handle, but none of the cloud's code runs.
    let sql: (text: string, params: unknown[]) => Promise<unknown>;
    let other: pg.Client | undefined;
    if (database.databaseUrl) {
      other = new pg.Client({
        connectionString: database.databaseUrl,
        options: `-c search_path=${database.databaseSchema}`,
      });
      await other.connect();
      sql = (text, params) => other!.query(text, params);
    } else sql = (text, params) => instances[0]!.db.query(text, params);
    const stream = await fetch(`${feedCloud.url}/console/api/live`, { headers: { cookie: support.cookie } });
    const reader = stream.body!.getReader();
    try {
      await streamUntil(reader, ': connected');
      // As above: the first may come with the console's first read, the second only by a notification.
      for (const dispenser of ['D7', 'D8']) {
        const eventId = newId();
        await sql(
          `INSERT INTO ledger_events (event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at)
           VALUES ($1, 'dispense', $2, -3000, 'LF-K1', $3, $4, $5)`,
          [eventId, accountId, dispenser, `manual-${eventId}`, Date.now()],
        );
        expect(await streamUntil(reader, eventId)).toMatch(
          new RegExp(`event: dispense\ndata: [^\n]*"dispenser_id":"${dispenser}"`),
        );
      }
      const alertId = `manual-${newId()}`;
      await sql(
        `INSERT INTO alerts (alert_id, source, rule, subject, kiosk_id, severity, message, raised_at)
         VALUES ($1, 'kiosk', 'tank_low', 'LF-K1', 'LF-K1', 'warning', 'Tank low', now())`,
        [alertId],
      );
      expect(await streamUntil(reader, alertId)).toMatch(/event: alert\ndata: [^\n]*"cleared_at":null/);
      await sql('UPDATE alerts SET cleared_at = now(), updated_at = now() WHERE alert_id = $1', [alertId]);
      await streamUntil(reader, new RegExp(`"alert_id":"${alertId}"[^\n]*"cleared_at":"`));
    } finally {
      await reader.cancel();
      await other?.end();
    }
  }, 60_000);
});
