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
  /** Average over buckets of this many ms (for graphs over long spans); raw points when absent. */
  bucketMs?: number;
  limit: number;
}

/** Prune after this many inserts, so retention costs one DELETE per few minutes of polling. */
const PRUNE_EVERY = 200;

/**
 * Sensor readings as a time series in the gateway's SQLite database (table from
 * migration 100), bounded by age (retentionMs) and by row count (maxRows).
 */
export class ReadingsStore {
  private readonly insert: Database.Statement<[string, number, number, string]>;
  private readonly deleteOlder: Database.Statement<[number]>;
  private readonly deleteBeyondCap: Database.Statement<[number]>;
  private insertsSincePrune = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly retention: HardwareConfig['readings'],
  ) {
    this.insert = db.prepare('INSERT INTO hardware_readings (sensor, at, value, unit) VALUES (?, ?, ?, ?)');
    this.deleteOlder = db.prepare('DELETE FROM hardware_readings WHERE at < ?');
    this.deleteBeyondCap = db.prepare(
      'DELETE FROM hardware_readings WHERE id <= (SELECT id FROM hardware_readings ORDER BY id DESC LIMIT 1 OFFSET ?)',
    );
  }

  /** Stores an answered reading; silent ones are not stored. */
  record(reading: SensorReading): void {
    if (reading.status !== 'ok') return;
    this.insert.run(reading.sensor, reading.at, reading.value, reading.unit);
    if (++this.insertsSincePrune >= PRUNE_EVERY) this.prune(reading.at);
  }

  /** Drops rows older than the retention window and the oldest beyond the row cap. */
  prune(now: number): number {
    this.insertsSincePrune = 0;
    const byAge = this.deleteOlder.run(now - this.retention.retentionMs).changes;
    return byAge + this.deleteBeyondCap.run(this.retention.maxRows).changes;
  }

  /** Points in [since, until], oldest first; the newest `limit` when there are more. */
  series(query: SeriesQuery): ReadingPoint[] {
    const rows = query.bucketMs
      ? this.db
          .prepare<[number, string, number, number, number], ReadingPoint>(
            `SELECT at - at % ? AS at, AVG(value) AS value FROM hardware_readings
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
    return this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM hardware_readings').get()!.n;
  }
}
