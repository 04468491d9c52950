import type { KeyObject } from 'node:crypto';
import { newId, type FirmwareDirective, type FirmwareProgress } from '@tusafishe/protocol';
import { FirmwareSignatureError, readSignedFirmware, releasePublicKey } from '@tusafishe/protocol/signed-firmware';
import { audit } from '../admin/adjustments.js';
import { CloudError } from '../errors.js';
import type { Db, Queryable } from '../store/db.js';

export interface FleetImageView {
  version: string;
  sha256: string;
  size: number;
  counter: number;
  uploaded_by: string;
  uploaded_at: string;
}

interface RolloutKioskView {
  kiosk_id: string;
  /** `waiting` until the kiosk first reports on this rollout. */
  state: 'waiting' | FirmwareProgress['state'];
  message: string | null;
  dispensers: FirmwareProgress['dispensers'];
  updated_at: string | null;
}

export interface RolloutView {
  rollout_id: string;
  version: string;
  sha256: string;
  /** null: every kiosk. */
  kiosk_ids: string[] | null;
  state: 'active' | 'stopped';
  started_by: string;
  started_at: string;
  stopped_by: string | null;
  stopped_at: string | null;
  kiosks: RolloutKioskView[];
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/**
 * Fleet-wide dispenser firmware: operators upload a release-signed file (checked here against the
 * release key, and again by each gateway and each dispenser), start a rollout to all kiosks or a
 * list; each kiosk's gateway learns it from its status answer, fetches the file and runs its own
 * staged rollout, and reports progress with its status.
 */
export class FleetFirmware {
  readonly #key: KeyObject;

  constructor(
    private readonly db: Db,
    publicKey: string,
  ) {
    this.#key = releasePublicKey(publicKey);
  }

  async addImage(signedFile: Buffer, operator: string): Promise<{ image: FleetImageView; created: boolean }> {
    let manifest: ReturnType<typeof readSignedFirmware>['manifest'];
    try {
      manifest = readSignedFirmware(signedFile, this.#key).manifest;
    } catch (error) {
      if (error instanceof FirmwareSignatureError) throw new CloudError('INVALID_FIRMWARE', error.message);
      throw error;
    }
    return this.db.transaction(async (tx) => {
      const existing = await tx.query<{ sha256: string; version: string }>(
        'SELECT sha256, version FROM fleet_firmware_images WHERE sha256 = $1 OR version = $2',
        [manifest.sha256, manifest.version],
      );
      if (existing[0]) {
        if (existing[0].sha256 !== manifest.sha256 || existing[0].version !== manifest.version)
          throw new CloudError('FIRMWARE_CONFLICT', `already stored: ${existing[0].version}`);
        return { image: await this.#image(tx, manifest.sha256), created: false };
      }
      await tx.query(
        `INSERT INTO fleet_firmware_images (sha256, version, size, counter, signed_file, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [manifest.sha256, manifest.version, manifest.size, manifest.counter, signedFile, operator],
      );
      await audit(tx, operator, 'firmware_upload', manifest.version, { sha256: manifest.sha256, size: manifest.size });
      return { image: await this.#image(tx, manifest.sha256), created: true };
    });
  }

  async #image(db: Queryable, sha256: string): Promise<FleetImageView> {
    const [image] = await this.#images(db, sha256);
    if (!image) throw new CloudError('UNKNOWN_FIRMWARE', `no firmware ${sha256}`);
    return image;
  }

  async #images(db: Queryable, sha256: string | null): Promise<FleetImageView[]> {
    const rows = await db.query<Omit<FleetImageView, 'uploaded_at'> & { uploaded_at: Date }>(
      `SELECT version, sha256, size, counter, uploaded_by, uploaded_at FROM fleet_firmware_images
        WHERE $1::text IS NULL OR sha256 = $1 ORDER BY uploaded_at DESC`,
      [sha256],
    );
    return rows.map((row) => ({ ...row, uploaded_at: iso(row.uploaded_at)! }));
  }

  listImages(): Promise<FleetImageView[]> {
    return this.#images(this.db, null);
  }

  /** The signed file of an image some rollout for this kiosk names. */
  async signedFile(kioskId: string, sha256: string): Promise<Buffer | undefined> {
    const rows = await this.db.query<{ signed_file: Uint8Array }>(
      `SELECT i.signed_file FROM fleet_firmware_images i
        WHERE i.sha256 = $1 AND EXISTS (SELECT 1 FROM fleet_rollouts r
          WHERE r.sha256 = i.sha256 AND (r.kiosk_ids IS NULL OR $2 = ANY(r.kiosk_ids)))`,
      [sha256, kioskId],
    );
    return rows[0] ? Buffer.from(rows[0].signed_file) : undefined;
  }

  /** Starts a rollout of an uploaded version; the previous active rollout stops (the newest one wins). */
  async start(input: { version: string; kioskIds: string[] | null }, operator: string): Promise<RolloutView> {
    const rolloutId = newId();
    await this.db.transaction(async (tx) => {
      const [image] = await tx.query<{ sha256: string }>(
        'SELECT sha256 FROM fleet_firmware_images WHERE version = $1',
        [input.version],
      );
      if (!image) throw new CloudError('UNKNOWN_FIRMWARE', `no uploaded firmware ${input.version}`);
      if (input.kioskIds) {
        const known = await tx.query<{ kiosk_id: string }>(
          'SELECT kiosk_id FROM kiosks WHERE kiosk_id = ANY($1::text[])',
          [input.kioskIds],
        );
        const unknown = input.kioskIds.filter((id) => !known.some((row) => row.kiosk_id === id));
        if (unknown.length > 0) throw new CloudError('UNKNOWN_KIOSK', `no kiosk ${unknown.join(', ')}`);
      }
      const stopped = await tx.query<{ rollout_id: string }>(
        `UPDATE fleet_rollouts SET state = 'stopped', stopped_by = $1, stopped_at = now()
          WHERE state = 'active' RETURNING rollout_id`,
        [operator],
      );
      for (const { rollout_id } of stopped)
        await audit(tx, operator, 'firmware_rollout_stop', rollout_id, { superseded_by: rolloutId });
      await tx.query(
        `INSERT INTO fleet_rollouts (rollout_id, sha256, kiosk_ids, state, started_by) VALUES ($1, $2, $3, 'active', $4)`,
        [rolloutId, image.sha256, input.kioskIds, operator],
      );
      await audit(tx, operator, 'firmware_rollout_start', rolloutId, {
        version: input.version,
        kiosk_ids: input.kioskIds ?? 'all',
      });
    });
    return this.get(rolloutId);
  }

  async stop(rolloutId: string, operator: string): Promise<RolloutView> {
    await this.db.transaction(async (tx) => {
      const rows = await tx.query<{ state: string }>(
        'SELECT state FROM fleet_rollouts WHERE rollout_id = $1 FOR UPDATE',
        [rolloutId],
      );
      if (!rows[0]) throw new CloudError('UNKNOWN_ROLLOUT', `no rollout ${rolloutId}`);
      if (rows[0].state !== 'active') return;
      await tx.query(
        `UPDATE fleet_rollouts SET state = 'stopped', stopped_by = $2, stopped_at = now() WHERE rollout_id = $1`,
        [rolloutId, operator],
      );
      await audit(tx, operator, 'firmware_rollout_stop', rolloutId, {});
    });
    return this.get(rolloutId);
  }

  /** What a kiosk should run now: the newest active rollout that includes it. */
  async directiveFor(db: Queryable, kioskId: string): Promise<FirmwareDirective | null> {
    const rows = await db.query<FirmwareDirective>(
      `SELECT r.rollout_id, i.version, i.sha256, i.size FROM fleet_rollouts r
         JOIN fleet_firmware_images i USING (sha256)
        WHERE r.state = 'active' AND (r.kiosk_ids IS NULL OR $1 = ANY(r.kiosk_ids))
        ORDER BY r.started_at DESC LIMIT 1`,
      [kioskId],
    );
    return rows[0] ?? null;
  }

  /** A kiosk's report on a rollout it was given (reports on rollouts it was never given are ignored). */
  async recordProgress(tx: Queryable, kioskId: string, progress: FirmwareProgress): Promise<void> {
    await tx.query(
      `INSERT INTO fleet_rollout_kiosks (rollout_id, kiosk_id, state, message, dispensers)
       SELECT rollout_id, $2, $3, $4, $5 FROM fleet_rollouts
        WHERE rollout_id = $1 AND (kiosk_ids IS NULL OR $2 = ANY(kiosk_ids))
       ON CONFLICT (rollout_id, kiosk_id) DO UPDATE
         SET state = EXCLUDED.state, message = EXCLUDED.message, dispensers = EXCLUDED.dispensers, updated_at = now()
         WHERE (fleet_rollout_kiosks.state, fleet_rollout_kiosks.message, fleet_rollout_kiosks.dispensers)
           IS DISTINCT FROM (EXCLUDED.state, EXCLUDED.message, EXCLUDED.dispensers)`,
      [progress.rollout_id, kioskId, progress.state, progress.message, JSON.stringify(progress.dispensers)],
    );
  }

  async get(rolloutId: string): Promise<RolloutView> {
    const [rollout] = await this.list(rolloutId);
    if (!rollout) throw new CloudError('UNKNOWN_ROLLOUT', `no rollout ${rolloutId}`);
    return rollout;
  }

  /** Rollouts newest first (the latest 20), each with every target kiosk's progress. */
  async list(rolloutId: string | null = null): Promise<RolloutView[]> {
    const rollouts = await this.db.query<{
      rollout_id: string;
      version: string;
      sha256: string;
      kiosk_ids: string[] | null;
      state: 'active' | 'stopped';
      started_by: string;
      started_at: Date;
      stopped_by: string | null;
      stopped_at: Date | null;
    }>(
      `SELECT r.rollout_id, i.version, r.sha256, r.kiosk_ids, r.state, r.started_by, r.started_at, r.stopped_by, r.stopped_at
         FROM fleet_rollouts r JOIN fleet_firmware_images i USING (sha256)
        WHERE $1::uuid IS NULL OR r.rollout_id = $1 ORDER BY r.started_at DESC LIMIT 20`,
      [rolloutId],
    );
    if (rollouts.length === 0) return [];
    const progress = await this.db.query<{
      rollout_id: string;
      kiosk_id: string;
      state: RolloutKioskView['state'];
      message: string | null;
      dispensers: FirmwareProgress['dispensers'];
      updated_at: Date | null;
    }>(
      `SELECT r.rollout_id, k.kiosk_id, coalesce(p.state, 'waiting') AS state, p.message,
              coalesce(p.dispensers, '[]'::jsonb) AS dispensers, p.updated_at
         FROM fleet_rollouts r
         JOIN kiosks k ON r.kiosk_ids IS NULL OR k.kiosk_id = ANY(r.kiosk_ids)
         LEFT JOIN fleet_rollout_kiosks p ON p.rollout_id = r.rollout_id AND p.kiosk_id = k.kiosk_id
        WHERE r.rollout_id = ANY($1::uuid[]) ORDER BY k.kiosk_id`,
      [rollouts.map((r) => r.rollout_id)],
    );
    return rollouts.map((r) => ({
      ...r,
      started_at: iso(r.started_at)!,
      stopped_at: iso(r.stopped_at),
      kiosks: progress
        .filter((p) => p.rollout_id === r.rollout_id)
        .map(({ rollout_id: _, updated_at, ...p }) => ({ ...p, updated_at: iso(updated_at) })),
    }));
  }
}
