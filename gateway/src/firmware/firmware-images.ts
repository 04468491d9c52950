import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { TechnicianApiError } from '../ui-api/technician-errors.js';

export interface FirmwareImageRecord {
  sha256: string;
  version: string;
  size: number;
  uploaded_by: string | null;
  uploaded_at: number;
}

/** Uploaded dispenser images: bytes in `<dir>/<sha256>`, metadata in SQLite. */
export class FirmwareImages {
  constructor(
    private readonly db: Database,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Stores an image; the same bytes under the same version again change nothing (`created: false`). */
  add(
    bytes: Buffer,
    version: string,
    uploadedBy: string | null,
    now = Date.now(),
  ): { image: FirmwareImageRecord; created: boolean } {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const existing = this.bySha(sha256) ?? this.byVersion(version);
    if (existing) {
      if (existing.sha256 === sha256 && existing.version === version) return { image: existing, created: false };
      throw new TechnicianApiError(
        'FIRMWARE_CONFLICT',
        409,
        `already stored: ${existing.version} (${existing.sha256.slice(0, 12)}…)`,
      );
    }
    // Written and renamed before the row exists, so a listed image is always complete on disk.
    const path = this.path(sha256);
    writeFileSync(`${path}.part`, bytes, { flush: true });
    renameSync(`${path}.part`, path);
    const record = { sha256, version, size: bytes.byteLength, uploaded_by: uploadedBy, uploaded_at: now };
    this.db
      .prepare(
        'INSERT INTO firmware_images (sha256, version, size, uploaded_by, uploaded_at) VALUES (@sha256, @version, @size, @uploaded_by, @uploaded_at)',
      )
      .run(record);
    return { image: record, created: true };
  }

  list(): FirmwareImageRecord[] {
    return this.db.prepare('SELECT * FROM firmware_images ORDER BY uploaded_at DESC').all() as FirmwareImageRecord[];
  }

  bySha(sha256: string): FirmwareImageRecord | undefined {
    return this.db.prepare('SELECT * FROM firmware_images WHERE sha256 = ?').get(sha256) as
      | FirmwareImageRecord
      | undefined;
  }

  byVersion(version: string): FirmwareImageRecord | undefined {
    return this.db.prepare('SELECT * FROM firmware_images WHERE version = ?').get(version) as
      | FirmwareImageRecord
      | undefined;
  }

  path(sha256: string): string {
    return join(this.dir, sha256);
  }
}
