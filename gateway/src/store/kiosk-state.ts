import type { Db } from './database.js';

const LAST_CLOUD_CONTACT = 'last_cloud_contact_at';
const NOT_BEFORE = 'trusted_not_before';

/** Small named values of the kiosk, kept in the `settings` table. */
export class KioskState {
  private readonly read;
  private readonly write;

  constructor(db: Db) {
    this.read = db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck();
    this.write = db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  /** Epoch ms of the last successful cloud sync, or null if the kiosk never reached it. */
  lastCloudContact(): number | null {
    const value = this.read.get(LAST_CLOUD_CONTACT);
    return value === undefined ? null : Number(value);
  }

  setLastCloudContact(at: number): void {
    this.write.run(LAST_CLOUD_CONTACT, String(at));
  }

  /** The latest trusted wall time (epoch ms) the kiosk has seen: time never goes back before it. */
  notBefore(): number | null {
    const value = this.read.get(NOT_BEFORE);
    return value === undefined ? null : Number(value);
  }

  /** Moves "not before" forward (never back). */
  setNotBefore(at: number): void {
    const current = this.notBefore();
    if (current === null || at > current) this.write.run(NOT_BEFORE, String(Math.floor(at)));
  }
}
