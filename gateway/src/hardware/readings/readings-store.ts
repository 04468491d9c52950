import type Database from 'better-sqlite3';
import type { HardwareConfig } from '../config.js';
import type { SensorReading } from '../modbus/sensor-reading.js';

export interface ReadingPoint {
  at: number;
  value: number;
}

export interface SeriesQuery {
  sensor: string;
  since: number;
  until: number;
  /** Average over buckets of this many ms (for graphs over long spans); stored points when absent. */
  bucketMs?: number;
  limit: number;
}

/** Prune after this many rows, so retention costs one DELETE per few hundred rows. */
const PRUNE_EVERY = 200;

/** One sensor's answers within one bucket, not yet written. */
interface Bucket {
  sensor: string;
  unit: string;
  at: number;
  sum: number;
  min: number;
  max: number;
  samples: number;
}

function bucketOf(reading: Extract<SensorReading, { status: 'ok' }>, at: number): Bucket {
  const { sensor, unit, value } = reading;
  return { sensor, unit, at, sum: value, min: value, max: value, samples: 1 };
}

type Row = [sensor: string, at: number, value: number, unit: string, min: number, max: number, samples: number];

/**
 * Sensor readings as a time series in the gateway's SQLite database (table from migrations 100
 * and 110). Answers are downsampled in memory: one row per sensor per `bucketMs` (average, min,
 * max, count) — a commit per answer would write a few WAL pages every poll, the largest share of
 * a kiosk's SD-card writes. Finished buckets wait in memory until the oldest is `flushMs` old and
 * are then written in one transaction: each commit rewrites the index pages of every sensor, so
 * fifteen minutes of buckets cost what one did. What is in memory is lost on a power cut (at most
 * `flushMs` + `bucketMs` of readings); `close()` writes it, and reading the series writes it first.
 * `bucketMs` 0 keeps every answer. Rows are bounded by age (retentionMs) and by count (maxRows).
 */
export class ReadingsStore {
  private readonly insert: Database.Statement<Row>;
  private readonly deleteOlder: Database.Statement<[number]>;
  private readonly deleteBeyondCap: Database.Statement<[number]>;
  private readonly writeRows: (rows: Row[]) => void;
  private readonly open = new Map<string, Bucket>();
  /** Finished buckets not written yet, oldest first. */
  private finished: Bucket[] = [];
  private rowsSincePrune = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly retention: HardwareConfig['readings'],
  ) {
    this.insert = db.prepare(
      'INSERT INTO hardware_readings (sensor, at, value, unit, min_value, max_value, samples) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    // Buckets are written in time order: the oldest rows by id, up to the first one young enough.
    this.deleteOlder = db.prepare(`DELETE FROM hardware_readings WHERE id < coalesce(
      (SELECT id FROM hardware_readings WHERE at >= ? ORDER BY id LIMIT 1),
      (SELECT max(id) + 1 FROM hardware_readings))`);
    this.deleteBeyondCap = db.prepare(
      'DELETE FROM hardware_readings WHERE id <= (SELECT id FROM hardware_readings ORDER BY id DESC LIMIT 1 OFFSET ?)',
    );
    this.writeRows = db.transaction((rows: Row[]) => {
      for (const row of rows) this.insert.run(...row);
    });
  }

  /** Takes an answered reading (silent ones are not stored); writes the buckets it closes. */
  record(reading: SensorReading): void {
    if (reading.status !== 'ok') return;
    const { bucketMs } = this.retention;
    if (bucketMs === 0) return this.finish([bucketOf(reading, reading.at)], reading.at);
    const at = reading.at - (reading.at % bucketMs);
    const current = this.open.get(reading.sensor);
    if (current?.at === at) {
      current.sum += reading.value;
      current.min = Math.min(current.min, reading.value);
      current.max = Math.max(current.max, reading.value);
      current.samples += 1;
      return;
    }
    // A sensor entering a new bucket closes its own and every earlier one: sensors are polled together.
    const closed = [...this.open.values()].filter((bucket) => bucket.sensor === reading.sensor || bucket.at < at);
    for (const bucket of closed) this.open.delete(bucket.sensor);
    this.open.set(reading.sensor, bucketOf(reading, at));
    this.finish(closed, reading.at);
  }

  /** Writes the buckets still open and the finished ones waiting (on shutdown). */
  close(): void {
    this.finished.push(...this.open.values());
    this.open.clear();
    try {
      this.flush(Date.now());
    } catch {
      // A full disk at shutdown must not keep the other parts open; the readings in memory may go.
    }
  }

  private finish(buckets: Bucket[], now: number): void {
    this.finished.push(...buckets);
    const oldest = this.finished[0];
    if (oldest && now - oldest.at >= this.retention.flushMs) this.flush(now);
  }

  /** Writes the finished buckets in one transaction. */
  private flush(now: number): void {
    const buckets = this.finished;
    if (buckets.length === 0) return;
    this.writeRows(buckets.map((b) => [b.sensor, b.at, b.sum / b.samples, b.unit, b.min, b.max, b.samples]));
    this.finished = [];
    this.rowsSincePrune += buckets.length;
    if (this.rowsSincePrune >= PRUNE_EVERY) this.prune(now);
  }

  /** Drops rows older than the retention window and the oldest beyond the row cap. */
  prune(now: number): number {
    this.rowsSincePrune = 0;
    const byAge = this.deleteOlder.run(now - this.retention.retentionMs).changes;
    return byAge + this.deleteBeyondCap.run(this.retention.maxRows).changes;
  }

  /** Points in [since, until], oldest first; the newest `limit` when there are more. Averages weigh each row by its samples. */
  series(query: SeriesQuery): ReadingPoint[] {
    this.flush(Date.now());
    const rows = query.bucketMs
      ? this.db
          .prepare<[number, string, number, number, number], ReadingPoint>(
            `SELECT at - at % ? AS at, SUM(value * samples) / SUM(samples) AS value FROM hardware_readings
             WHERE sensor = ? AND at BETWEEN ? AND ? GROUP BY 1 ORDER BY 1 DESC LIMIT ?`,
          )
          .all(query.bucketMs, query.sensor, query.since, query.until, query.limit)
      : this.db
          .prepare<[string, number, number, number], ReadingPoint>(
            'SELECT at, value FROM hardware_readings WHERE sensor = ? AND at BETWEEN ? AND ? ORDER BY at DESC LIMIT ?',
          )
          .all(query.sensor, query.since, query.until, query.limit);
    return rows.reverse();
  }

  count(): number {
    this.flush(Date.now());
    return this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM hardware_readings').get()!.n;
  }
}
