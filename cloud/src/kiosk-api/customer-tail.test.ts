import type { CustomerRecord } from '@tusafishe/protocol';
import { describe, expect, it } from 'vitest';
import type { FeedChange } from '../customers/customers.js';
import { CustomerTail } from './customer-tail.js';

/** A change of `account` at `version`, its last profile change at `profileVersion`, followed by no kiosk. */
function change(account: string, version: number, profileVersion: number): FeedChange {
  const record = { account_id: account, name: `${account}@${version}`, version } as CustomerRecord;
  return { record, profileVersion, followers: {} };
}

const FOLLOWING_NO_ONE = { kioskId: 'KIOSK-A', sinceDay: 0 };
const names = (page: { customers: CustomerRecord[] }): string[] => page.customers.map((record) => record.name);

describe('the change feed’s tail, filtered for a kiosk', () => {
  it('sends a profile change early when its customer changed again above the page', () => {
    const tail = new CustomerTail(100, 0);
    // Amina registers (1), Baraka tops up (2), Amina tops up (3): her record at 1 is superseded.
    tail.append([change('AMINA', 1, 1), change('BARAKA', 2, 0), change('AMINA', 3, 1)]);

    // A long-poll's page up to a publication at 2 moves the kiosk past Amina's registration: her
    // newest record comes with it, or a kiosk that does not follow her would never be sent her.
    const first = tail.page(0, 10, 2, FOLLOWING_NO_ONE);
    expect(names(first)).toEqual(['AMINA@3']);
    expect(first.through).toBe(2);
    expect(names(tail.page(first.through, 10, 3, FOLLOWING_NO_ONE))).toEqual([]);
  });

  it('sends early what a page cut at its limit moves the kiosk past', () => {
    const tail = new CustomerTail(100, 0);
    tail.append([change('AMINA', 1, 1), change('BARAKA', 2, 2), change('CHAUSIKU', 3, 3), change('AMINA', 4, 1)]);
    const first = tail.page(0, 2, 4, FOLLOWING_NO_ONE);
    expect(first).toMatchObject({ hasMore: true, through: 3 });
    expect(names(first)).toEqual(['BARAKA@2', 'CHAUSIKU@3', 'AMINA@4']);
  });

  it('moves a kiosk past the balance changes it is not sent', () => {
    const tail = new CustomerTail(100, 0);
    tail.append([change('AMINA', 1, 1), change('BARAKA', 2, 0), change('AMINA', 3, 1), change('BARAKA', 4, 0)]);
    expect(tail.page(1, 10, 3, FOLLOWING_NO_ONE)).toMatchObject({ customers: [], through: 3 });
    expect(tail.page(3, 10, 4, FOLLOWING_NO_ONE)).toMatchObject({ customers: [], through: 4 });
  });

  it('pages every current record up to the page when not filtered, as before', () => {
    const tail = new CustomerTail(100, 0);
    tail.append([change('AMINA', 1, 1), change('BARAKA', 2, 0), change('AMINA', 3, 1)]);
    expect(names(tail.page(0, 10, 2))).toEqual(['BARAKA@2']);
    expect(names(tail.page(0, 10, 3))).toEqual(['BARAKA@2', 'AMINA@3']);
  });
});
