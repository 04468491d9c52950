import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CustomerRecord, SYNC_PATHS, type PullResponse } from '@tusafishe/protocol';
import { recordAdjustment } from '../src/admin/adjustments.js';
import type { RunningCloud } from '../src/cloud.js';
import { createCustomer, setPin, updateProfile, type Customer } from '../src/customers/customers.js';
import { createKiosk } from '../src/kiosks/kiosks.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { dispenseEvent, kioskClient } from './kiosk-client.js';

type Client = ReturnType<typeof kioskClient>;

/**
 * A kiosk asking with `follow_days` (ARCHITECTURE §7, _A kiosk's SD card and the fleet's
 * changes_): every customer and every profile change, but balance-only changes only of the
 * customers it serves; a kiosk behind the tail (read from the database) is sent everything.
 */
describe.each(backends())('kiosks following their own customers on $name', (backend) => {
  describe.each([{ tailSize: 10_000 }])('answered from the tail in memory', ({ tailSize }) => {
    let cloud: RunningCloud;
    let here: Client;
    let there: Client;
    let amina: Customer;
    let baraka: Customer;
    let fleetSeen = '0';

    beforeAll(async () => {
      cloud = await startTestCloud(backend, { changeFeed: { tailSize } });
      here = kioskClient(cloud.url, await createKiosk(cloud.db, { kioskId: 'KIOSK-HERE' }));
      there = kioskClient(cloud.url, await createKiosk(cloud.db, { kioskId: 'KIOSK-THERE' }));
      amina = await createCustomer(cloud.db, { phone: '+254700400001', name: 'Amina', pin: '1357' });
      baraka = await createCustomer(cloud.db, { phone: '+254700400002', name: 'Baraka', pin: '2468' });
      await credit(amina, 10_000);
      await credit(baraka, 10_000);
      // Amina draws water here: this kiosk follows her now.
      expect((await here.push([dispenseEvent('KIOSK-HERE', amina.account_id, 500)])).status).toBe(200);
    });
    afterAll(() => stopTestCloud(cloud, backend));

    function credit(customer: Customer, amountMl: number): Promise<unknown> {
      return recordAdjustment(cloud.db, {
        accountId: customer.account_id,
        amountMl,
        reason: 'top-up',
        operator: 'test',
      });
    }

    /** Every page from `cursor` to the end, as a kiosk asking for its own customers pulls them. */
    async function pullAll(kiosk: Client, cursor: string): Promise<{ records: CustomerRecord[]; cursor: string }> {
      const records: CustomerRecord[] = [];
      for (;;) {
        const { status, body } = await kiosk.pull({ cursor, limit: 2, follow_days: 30 });
        expect(status).toBe(200);
        records.push(...body.customers);
        expect(Number(body.cursor)).toBeGreaterThanOrEqual(Number(cursor));
        cursor = body.cursor;
        if (!body.has_more) return { records, cursor };
      }
    }

    const names = (records: readonly CustomerRecord[]): string[] => records.map((record) => record.name).sort();

    it('sends a first replica every customer, balances included', async () => {
      const first = await pullAll(there, '0');
      expect(names(first.records)).toEqual(['Amina', 'Baraka']);
      expect(first.records.find((record) => record.name === 'Amina')?.balance_ml).toBe(9_500);
      fleetSeen = first.cursor;
    });

    it("sends a top-up only to the kiosks that serve the customer, and moves the others' cursors past it", async () => {
      const hereAt = (await pullAll(here, '0')).cursor;
      const thereAt = (await pullAll(there, fleetSeen)).cursor;
      await credit(amina, 2_000);

      const atHere = await pullAll(here, hereAt);
      expect(atHere.records.map((record) => [record.name, record.balance_ml])).toEqual([['Amina', 11_500]]);
      const atThere = await pullAll(there, thereAt);
      expect(atThere.records).toEqual([]);
      expect(Number(atThere.cursor)).toBeGreaterThanOrEqual(Number(atHere.cursor));
      // A kiosk that did not ask to filter is sent it, as before.
      const { body } = await there.pull({ cursor: thereAt });
      expect(names(body.customers)).toEqual(['Amina']);
      fleetSeen = atThere.cursor;
    });

    it('sends every kiosk a PIN change, a new customer, and one allowed at the kiosk', async () => {
      const from = fleetSeen;
      await setPin(cloud.db, baraka.account_id, '9753');
      const chausiku = await createCustomer(cloud.db, { phone: '+254700400003', name: 'Chausiku', pin: '1122' });
      // Topped up before any kiosk pulled its creation: the record is still new to every kiosk.
      await credit(chausiku, 3_000);
      const dalila = await createCustomer(cloud.db, {
        phone: '+254700400004',
        name: 'Dalila',
        pin: '3344',
        allowedKiosks: ['KIOSK-THERE'],
      });
      const afterProfiles = (await pullAll(there, from)).cursor;
      expect(names((await pullAll(here, from)).records)).toEqual(['Baraka', 'Chausiku', 'Dalila']);

      await credit(dalila, 1_000);
      await credit(baraka, 1_000);
      const later = await pullAll(there, afterProfiles);
      expect(later.records.map((record) => [record.name, record.balance_ml])).toEqual([['Dalila', 1_000]]);
    });

    it('sends every kiosk a customer suspended', async () => {
      const from = (await pullAll(there, '0')).cursor;
      await updateProfile(cloud.db, amina.account_id, { status: 'suspended' });
      expect((await pullAll(there, from)).records.map((record) => [record.name, record.status])).toEqual([
        ['Amina', 'suspended'],
      ]);
    });

    it('follows a customer from the push of their first event at the kiosk', async () => {
      const from = (await pullAll(there, '0')).cursor;
      const pushed = await there.push([dispenseEvent('KIOSK-THERE', baraka.account_id, 200)]);
      // The push's answer carries the balance as it stands; every change after it is sent.
      expect(pushed.body.balances).toEqual([expect.objectContaining({ account_id: baraka.account_id })]);
      await credit(baraka, 700);
      const { records } = await pullAll(there, from);
      expect(records.at(-1)).toMatchObject({ name: 'Baraka', balance_ml: pushed.body.balances[0]!.balance_ml + 700 });
    });

    it("waits on a long-poll through other customers' top-ups, and answers with its own", async () => {
      const from = (await pullAll(here, '0')).cursor;
      const waiting = here.pull({ cursor: from, wait_s: 30, follow_days: 30 });
      await credit(baraka, 10);
      await credit(baraka, 10);
      await credit(amina, 10);
      const { body } = await waiting;
      expect(names(body.customers)).toEqual(['Amina']);
      expect((await pullAll(here, body.cursor)).records).toEqual([]);
    });

    it('filters the customer stream the same way', async () => {
      const from = (await pullAll(here, '0')).cursor;
      await credit(baraka, 100);
      await credit(amina, 100);
      const response = await here.fetch(`${SYNC_PATHS.customerStream}?cursor=${from}&follow_days=30&wait_s=1`);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!text.includes('\n')) text += (await reader.read()).value ?? '';
      await reader.cancel();
      const page = JSON.parse(text.slice(0, text.indexOf('\n'))) as PullResponse;
      expect(page.customers.map((record) => record.name)).toEqual(['Amina']);
    });

    it('refuses a follow_days out of range', async () => {
      for (const days of [0, 61, 'x'])
        expect((await here.fetch(`${SYNC_PATHS.customers}?follow_days=${days}`)).status).toBe(400);
    });
  });

  describe('behind the tail', () => {
    let cloud: RunningCloud;

    beforeAll(async () => {
      cloud = await startTestCloud(backend, { changeFeed: { tailSize: 1 } });
    });
    afterAll(() => stopTestCloud(cloud, backend));

    it('is sent the same: a new customer topped up at once, not the top-ups of others', async () => {
      const kiosk = kioskClient(cloud.url, await createKiosk(cloud.db, { kioskId: 'KIOSK-HERE' }));
      const amina = await createCustomer(cloud.db, { phone: '+254700400011', name: 'Amina', pin: '1357' });
      const { body: first } = await kiosk.pull({ follow_days: 30 });
      const credit = (customer: Customer): Promise<unknown> =>
        recordAdjustment(cloud.db, {
          accountId: customer.account_id,
          amountMl: 1_000,
          reason: 'top-up',
          operator: 'test',
        });
      await credit(amina);
      const baraka = await createCustomer(cloud.db, { phone: '+254700400012', name: 'Baraka', pin: '2468' });
      await credit(baraka);
      // Pages of one record: Baraka's creation is within the first, his newest row beyond it.
      const records: CustomerRecord[] = [];
      for (let cursor = first.cursor, more = true; more; ) {
        const { body } = await kiosk.pull({ cursor, limit: 1, follow_days: 30 });
        records.push(...body.customers);
        cursor = body.cursor;
        more = body.has_more;
      }
      expect(records.map((record) => [record.name, record.balance_ml])).toEqual([['Baraka', 1_000]]);
    });
  });
});
