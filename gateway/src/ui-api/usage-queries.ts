import { localDay } from '../dispense/local-day.js';
import { inTimeRangeSql, timeRange } from '../store/ledger.js';
import type { Store } from '../store/store.js';
import type { HardwareApi } from '../hardware/api/hardware-routes.js';
import type { Usage } from './api-schemas.js';
import { tankSeries } from './hardware-view.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Bucket starts: the hours of today, or the 7 local days ending today; and where the range ends. */
function buckets(range: Usage['range'], timezone: string, now: number): { starts: number[]; to: number } {
  const today = localDay(now, timezone);
  if (range === 'day') {
    const hours = Math.round((today.end - today.start) / HOUR_MS);
    return { starts: Array.from({ length: hours }, (_, hour) => today.start + hour * HOUR_MS), to: today.end };
  }
  // Midday of each day keeps a DST shift from landing in the wrong day.
  const starts = Array.from(
    { length: 7 },
    (_, index) => localDay(today.start + DAY_MS / 2 - (6 - index) * DAY_MS, timezone).start,
  );
  return { starts, to: today.end };
}

/** Water dispensed (mL) and number of dispenses in [from, to). */
export function dispensedBetween(store: Store, from: number, to: number): { dispensed_ml: number; dispenses: number } {
  return store.db
    .prepare(
      `SELECT COALESCE(-SUM(amount_ml), 0) AS dispensed_ml, COUNT(*) AS dispenses FROM ledger_events NOT INDEXED
        WHERE type = 'dispense' AND ${inTimeRangeSql('ledger_events')}`,
    )
    .get(timeRange(from, to)) as { dispensed_ml: number; dispenses: number };
}

/** Litres per hour/day and per dispenser, plus the tank level when the kiosk has a tank sensor. */
export function usageSeries(
  store: Store,
  range: Usage['range'],
  timezone: string,
  hardware: HardwareApi | undefined,
  now: number = Date.now(),
): Usage {
  const { starts, to } = buckets(range, timezone, now);
  const from = starts[0] ?? now;
  const dispenses = store.db
    .prepare(
      `SELECT occurred_at, dispenser_id, -amount_ml AS ml FROM ledger_events NOT INDEXED
        WHERE type = 'dispense' AND ${inTimeRangeSql('ledger_events')}`,
    )
    .all(timeRange(from, to)) as { occurred_at: number; dispenser_id: string | null; ml: number }[];
  const series = starts.map((start) => ({ start, ml: 0 }));
  const byDispenser = new Map<string, number>();
  for (const dispense of dispenses) {
    const bucket = series[starts.findLastIndex((start) => start <= dispense.occurred_at)];
    if (bucket) bucket.ml += dispense.ml;
    const id = dispense.dispenser_id ?? 'unknown';
    byDispenser.set(id, (byDispenser.get(id) ?? 0) + dispense.ml);
  }
  return {
    range,
    timezone,
    from,
    to,
    buckets: series,
    by_dispenser: [...byDispenser]
      .map(([dispenser_id, ml]) => ({ dispenser_id, ml }))
      .sort((a, b) => a.dispenser_id.localeCompare(b.dispenser_id)),
    tank: hardware ? tankSeries(hardware, from, to) : null,
  };
}
