import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TIME_ZONE, newId, type LedgerEvent } from '@tusafishe/protocol';
import { backends } from '../../test/backends.js';
import { dispenseEvent } from '../../test/kiosk-client.js';
import { recordAdjustment } from '../admin/adjustments.js';
import { createCustomer } from '../customers/customers.js';
import { createKiosk } from '../kiosks/kiosks.js';
import { balanceDrift, balancesOf } from '../ledger/ledger.js';
import type { Db } from '../store/db.js';
import { openCloudDatabase } from '../store/open-database.js';
import { ingestKioskEvents, type KioskClaimLimits } from './ingest-events.js';

const KIOSK = 'IN-K1';
/** The lockout test's kiosk: its dispense does not count in IN-K1's daily volume, whatever the order. */
const OTHER_KIOSK = 'IN-K2';
const LIMITS: KioskClaimLimits = {
  usageTimeZone: DEFAULT_TIME_ZONE,
  maxLockoutMs: 3_600_000,
  maxDispenseMl: 100_000,
  dailyVolumeAlertMl: 50_000,
};

describe.each(backends())('a kiosk push on $name', (backend) => {
  let db: Db;
  /** Statements sent since the last reset, one a round trip: a transaction's opening (sent with BEGIN), then those inside. */
  let statements: string[] = [];
  let phones = 0;

  // Embedded Postgres takes a minute to start on a loaded machine.
  beforeAll(async () => {
    const real = await openCloudDatabase(backend.fresh());
    db = {
      ...real,
      transaction: (fn, options) => {
        if (options?.opening) statements.push(`BEGIN; ${options.opening}`);
        return real.transaction(
          (tx, opened) =>
            fn(
              {
                exec: (sql) => tx.exec(sql),
                query: (sql, params) => {
                  statements.push(sql);
                  return tx.query(sql, params);
                },
              },
              opened,
            ),
          options,
        );
      },
    };
    await createKiosk(db, { kioskId: KIOSK });
    await createKiosk(db, { kioskId: OTHER_KIOSK });
  }, 180_000);
  afterAll(async () => {
    await db?.close();
    await backend.cleanup();
  });

  async function customer(creditMl: number): Promise<string> {
    phones += 1;
    const { account_id } = await createCustomer(db, {
      phone: `+2547009${String(phones).padStart(5, '0')}`,
      name: 'Ingest Test',
      pin: '4321',
    });
    await recordAdjustment(db, { accountId: account_id, amountMl: creditMl, reason: 'test credit', operator: 'test' });
    return account_id;
  }

  const push = async (events: LedgerEvent[], kioskId = KIOSK) => {
    statements = [];
    return ingestKioskEvents(db, kioskId, events, LIMITS);
  };

  it("merges a batch of dispenses in two round trips: BEGIN with the customers' lock, then one statement for the rest", async () => {
    const [first, second] = [await customer(100_000), await customer(100_000)];
    const batch = [dispenseEvent(KIOSK, first, 20_000), dispenseEvent(KIOSK, second, 35_000)];
    const { response, volumeFlag } = await push(batch);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(/^BEGIN; SELECT account_id FROM customers .* FOR NO KEY UPDATE$/);
    expect(response.acked).toEqual(batch.map((event) => event.event_id));
    // The balances answered are the records as they stand after the batch, versions included.
    expect(response.balances).toEqual(await balancesOf(db, [first, second].sort()));
    expect(response.balances.map((b) => [b.balance_ml, b.used_today_ml])).toEqual(
      [first, second].sort().map((account) => (account === first ? [80_000, 20_000] : [65_000, 35_000])),
    );
    // 55 L > 50 L: this batch raised the kiosk's flag for the day.
    expect(volumeFlag).toMatchObject({ kiosk_id: KIOSK, volume_ml: 55_000 });

    // The same batch again: acknowledged, counted once, no second flag.
    const again = await push(batch);
    expect(again.response.acked).toEqual(batch.map((event) => event.event_id));
    expect(again.response.balances).toEqual(response.balances);
    expect(again.volumeFlag).toBeUndefined();
    const [day] = await db.query<{ volume_ml: number }>(
      'SELECT volume_ml FROM kiosk_daily_volume WHERE kiosk_id = $1',
      [KIOSK],
    );
    expect(Number(day?.volume_ml)).toBe(55_000);
    expect(await balanceDrift(db)).toEqual([]);
  });

  it('answers the version of the record after a lockout in the same batch', async () => {
    const account = await customer(50_000);
    const lockout: LedgerEvent = {
      event_id: newId(),
      type: 'pin_lockout',
      account_id: account,
      amount_ml: 0,
      kiosk_id: OTHER_KIOSK,
      occurred_at: Date.now(),
    };
    const { response } = await push([dispenseEvent(OTHER_KIOSK, account, 5_000), lockout], OTHER_KIOSK);
    expect(response.rejected).toEqual([]);
    expect(response.balances).toEqual(await balancesOf(db, [account]));
    expect(response.balances[0]?.balance_ml).toBe(45_000);
  });
});
