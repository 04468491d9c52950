import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { transactionsCsv } from './transactions-csv.js';

describe('the transactions CSV', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const HOUR = 3_600_000;
  const DAY = Date.UTC(2026, 11, 1);

  it("exports a day's balance events once each, in the order recorded, across pages and a clock that stepped back", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-csv-'));
    dirs.push(dir);
    const store = Store.open(dir);
    // 1,200 dispenses through the day; the clock then steps back an hour into the day before
    // (three dispenses), and comes right; a PIN lockout (not a balance event) in between.
    const times = [
      ...Array.from({ length: 1200 }, (_, i) => DAY + i * 60_000),
      DAY - HOUR,
      DAY - HOUR + 1,
      DAY + 23 * HOUR,
    ];
    for (const [i, at] of times.entries())
      store.ledger.append({
        event_id: `e${i}`,
        type: 'dispense',
        account_id: 'TSF000101',
        amount_ml: -(i + 1),
        source_id: `s${i}`,
        occurred_at: at,
      });
    store.ledger.append({
      event_id: 'lock',
      type: 'pin_lockout',
      account_id: 'TSF000101',
      amount_ml: 0,
      occurred_at: DAY,
    });

    const rows = (from: number, to: number): string[] =>
      [...transactionsCsv(store.db, from, to)]
        .join('')
        .trim()
        .split('\r\n')
        .slice(1)
        .map((line) => line.split(',')[1]!);
    const day = rows(DAY, DAY + 24 * HOUR);
    expect(day).toEqual([...Array.from({ length: 1200 }, (_, i) => `e${i}`), 'e1202']);
    expect(rows(DAY - 2 * HOUR, DAY)).toEqual(['e1200', 'e1201']);
    expect(rows(DAY + 24 * HOUR, DAY + 48 * HOUR)).toEqual([]);
    store.close();
  });
});
