import { get, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TestDispenser, type TestGateway } from './fixtures.js';
import { createTechnician } from '../src/ui-api/technician-accounts.js';
import { technicianApi } from '../src/ui-api/technician-api.js';

const USERNAME = 'wanjiru';
const PASSWORD = 'kiosk-fixer-2024';
/** Far more than loopback socket buffers hold (~170 bytes a line), so the server is left mid-export. */
const ROWS = 150_001;

describe('a slow transactions CSV download', () => {
  let gateway: TestGateway;
  let cookie: string;

  beforeAll(async () => {
    gateway = await startTestGateway({
      setup: async (core) => {
        await createTechnician(core.store.db, USERNAME, PASSWORD);
        await core.http.register(technicianApi, { gateway: core });
      },
    });
    const now = Date.now();
    gateway.store.db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO ledger_events (event_id, type, account_id, amount_ml, kiosk_id, source_id, occurred_at)
         SELECT 'csv-' || i, 'dispense', 'TSF000105', -1, 'K1', 'csv-' || i, ? - ? + i FROM n`,
      )
      .run(ROWS, now, ROWS);
    const signIn = await fetch(`http://127.0.0.1:${gateway.httpPort}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: USERNAME, password: PASSWORD }),
    });
    cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
  });
  afterAll(() => gateway?.close());

  it('never stops dispensing, and the whole export arrives once the client reads on', {
    timeout: 120_000,
  }, async () => {
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      get(`http://127.0.0.1:${gateway.httpPort}/api/transactions.csv`, { headers: { cookie } }, resolve).on(
        'error',
        reject,
      ),
    );
    expect(response.statusCode).toBe(200);
    const chunks: Buffer[] = [];
    let ended = false;
    response.on('end', () => (ended = true));
    // The client reads one chunk, then stalls (a phone on a bad link): the server waits mid-export.
    await new Promise<void>((resolve) =>
      response.once('data', (chunk: Buffer) => {
        chunks.push(chunk);
        response.pause();
        resolve();
      }),
    );

    const dispenser = await TestDispenser.connect(gateway, 'D1');
    try {
      for (const ml of [1000, 2000]) {
        const approval = await dispenser.authorise(dispenser.request('0700000101', ml));
        expect(approval).toMatchObject({ approved: true, approved_ml: ml });
        if (!approval.approved) return;
        const ack = await dispenser.complete(dispenser.completion(approval, ml));
        expect(ack).toMatchObject({ session_id: approval.session_id, recorded_ml: ml });
      }
    } finally {
      await dispenser.close();
    }
    expect(ended).toBe(false);

    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.resume();
    await new Promise((resolve) => response.once('end', resolve));
    const lines = Buffer.concat(chunks).toString('utf8').trim().split('\r\n');
    // Header, every bulk row exactly once and in order, and the two dispenses made meanwhile.
    expect(lines).toHaveLength(1 + ROWS + 2);
    const bulk = lines.filter((line) => line.includes(',csv-'));
    expect(bulk).toHaveLength(ROWS);
    expect(bulk[0]).toContain(',csv-1,');
    expect(bulk.at(-1)).toContain(`,csv-${ROWS},`);
    expect(lines.filter((line) => line.includes(',dispense,TSF000101,'))).toHaveLength(2);
  });
});
