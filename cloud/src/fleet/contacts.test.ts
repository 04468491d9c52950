import { beforeAll, describe, expect, it } from 'vitest';
import { backends, freshDb } from '../../test/backends.js';
import { createKiosk } from '../kiosks/kiosks.js';
import type { Queryable } from '../store/db.js';
import { KioskContacts } from './contacts.js';

describe.each(backends())('kiosk contacts on $name', (backend) => {
  const KIOSKS = ['CT-K1', 'CT-K2', 'CT-K3'];

  const db = freshDb(backend);
  beforeAll(async () => {
    for (const kioskId of KIOSKS) await createKiosk(db(), { kioskId, name: kioskId });
  }, 180_000);

  /** The database, with each contact write held until the test lets it go. */
  function gatedDb(): { queryable: Queryable; writes: string[][]; release: () => void } {
    const writes: string[][] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const queryable: Queryable = {
      exec: (sql) => db().exec(sql),
      async query<R extends object>(sql: string, params?: unknown[]): Promise<R[]> {
        writes.push(params?.[0] as string[]);
        await gate;
        return db().query<R>(sql, params);
      },
    };
    return { queryable, writes, release: open };
  }

  const contactsOf = (kioskIds: string[]) =>
    db().query<{ kiosk_id: string; contact: boolean; hours: number }>(
      `SELECT k.kiosk_id, k.last_contact_at IS NOT NULL AS contact,
         (SELECT count(*)::int FROM kiosk_contact_hours h WHERE h.kiosk_id = k.kiosk_id) AS hours
       FROM kiosks k WHERE k.kiosk_id = ANY($1::text[]) ORDER BY k.kiosk_id`,
      [kioskIds],
    );

  it('writes the kiosks that made contact while a write ran in one statement, and each resolves once stored', async () => {
    const { queryable, writes, release } = gatedDb();
    const contacts = new KioskContacts(queryable, 60_000);
    const first = contacts.record('CT-K1');
    // K1's write is running (held at the gate): K2 and K3 wait for the next one, together.
    await expect.poll(() => writes.length).toBe(1);
    const second = contacts.record('CT-K2');
    const third = contacts.record('CT-K3');
    // Within the interval: K2's contact is not written again, but its caller still waits for it.
    const again = contacts.record('CT-K2');
    let stored = false;
    void again.then(() => {
      stored = true;
    });
    expect(await contactsOf(KIOSKS)).toEqual(KIOSKS.map((kiosk_id) => ({ kiosk_id, contact: false, hours: 0 })));
    expect(stored).toBe(false);

    release();
    await Promise.all([first, second, third, again]);
    expect(writes).toEqual([['CT-K1'], ['CT-K2', 'CT-K3']]);
    expect(await contactsOf(KIOSKS)).toEqual(KIOSKS.map((kiosk_id) => ({ kiosk_id, contact: true, hours: 1 })));
    // Within the interval and already stored: nothing to write or wait for.
    await contacts.record('CT-K3');
    await contacts.settled();
    expect(writes).toHaveLength(2);
  });
});
