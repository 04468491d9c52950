import type { Db } from './database.js';

const LAST_CLOUD_CONTACT = 'last_cloud_contact_at';
const NOT_BEFORE = 'trusted_not_before';
/** How stale the stored last cloud contact may get (each write is a WAL page on the SD card). */
const CONTACT_PERSIST_MS = 5 * 60_000;

/** Small named values of the kiosk, kept in the `settings` table. */
export class KioskState {
  private readonly read;
  private readonly write;
  /** The last contact (undefined: not read yet) and the one on disk. */
  private contact: number | null | undefined;
  private persistedContact: number | null | undefined;

  constructor(db: Db) {
    this.read = db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck();
    this.write = db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  /** Epoch ms of the last successful cloud sync, or null if the kiosk never reached it. */
  lastCloudContact(): number | null {
    if (this.contact === undefined) {
      const value = this.read.get(LAST_CLOUD_CONTACT);
      this.contact = value === undefined ? null : Number(value);
      this.persistedContact = this.contact;
    }
    return this.contact;
  }

  /**
   * Records a cloud contact. Every pull and push is one, so it is kept in memory and written only
   * when the stored one is CONTACT_PERSIST_MS old (or the clock went back): a restart after a power
   * cut sees a contact at most that much older, which only brings the offline limit in sooner.
   */
  setLastCloudContact(at: number): void {
    this.lastCloudContact();
    this.contact = at;
    const stored = this.persistedContact;
    if (stored === null || stored === undefined || at < stored || at - stored >= CONTACT_PERSIST_MS) {
      this.write.run(LAST_CLOUD_CONTACT, String(at));
      this.persistedContact = at;
    }
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
