import type { KeyObject } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { FirmwareSignatureError, readSignedFirmware } from '@tusafishe/protocol/signed-firmware';
import { GatewayError } from '../errors.js';

export interface FirmwareImageRecord {
  sha256: string;
  version: string;
  size: number;
  /** The release's anti-rollback counter and Ed25519 signature, sent to the dispenser with the image. */
  counter: number;
  signature: string;
  uploaded_by: string | null;
  uploaded_at: number;
}

/**
 * Uploaded dispenser images: bytes in `<dir>/<sha256>`, metadata in SQLite. Only files signed
 * by the release key are stored (a technician can roll out a release, never make one); the
 * dispenser checks the same signature itself with the key built into its firmware.
 */
export class FirmwareImages {
  constructor(
    private readonly db: Database,
    readonly dir: string,
    private readonly releaseKey: KeyObject,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Stores a signed file's image; the same release again changes nothing (`created: false`). */
  add(
    signedFile: Buffer,
    uploadedBy: string | null,
    now = Date.now(),
  ): { image: FirmwareImageRecord; created: boolean } {
    const { manifest, image: bytes } = this.#verified(signedFile);
    const { sha256, version, counter, signature } = manifest;
    const existing = this.bySha(sha256) ?? this.byVersion(version);
    if (existing) {
      if (existing.sha256 === sha256 && existing.version === version) return { image: existing, created: false };
      throw new GatewayError('FIRMWARE_CONFLICT', existing.version, existing.sha256.slice(0, 12));
    }
    // Written and renamed before the row exists, so a listed image is always complete on disk.
    const path = this.path(sha256);
    writeFileSync(`${path}.part`, bytes, { flush: true });
    renameSync(`${path}.part`, path);
    const record = {
      sha256,
      version,
      size: bytes.byteLength,
      counter,
      signature,
      uploaded_by: uploadedBy,
      uploaded_at: now,
    };
    this.db
      .prepare(
        `INSERT INTO firmware_images (sha256, version, size, counter, signature, uploaded_by, uploaded_at)
         VALUES (@sha256, @version, @size, @counter, @signature, @uploaded_by, @uploaded_at)`,
      )
      .run(record);
    return { image: record, created: true };
  }

  #verified(signedFile: Buffer): ReturnType<typeof readSignedFirmware> {
    try {
      return readSignedFirmware(signedFile, this.releaseKey);
    } catch (error) {
      if (error instanceof FirmwareSignatureError) throw new GatewayError('INVALID_FIRMWARE', error.message);
      throw error;
    }
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
