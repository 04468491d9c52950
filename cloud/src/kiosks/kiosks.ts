import { randomBytes } from 'node:crypto';
import { hashSecret, verifySecret } from '@tusafishe/protocol/secret-hash';
import { KioskId } from '@tusafishe/protocol';
import { CloudError } from '../errors.js';
import { secretMatcher } from '../http/secret-match.js';
import type { Queryable } from '../store/db.js';
import type { Tariff } from '../payments/tariff.js';

export interface NewKiosk {
  kioskId: string;
  name?: string;
  /** Omitted: the cloud's default tariff applies. */
  tariff?: Tariff;
  /** Omitted (normal): a random secret is made. Given: development seeds whose gateway config is fixed. */
  secret?: string;
}

export interface KioskCredential {
  kioskId: string;
  /** Shown once; the cloud keeps only its salted hash. */
  secret: string;
}

/** Provisions a kiosk and returns its gateway credential (`Authorization: Basic base64(kiosk_id:secret)`). */
export async function createKiosk(db: Queryable, input: NewKiosk): Promise<KioskCredential> {
  if (!KioskId.safeParse(input.kioskId).success)
    throw new CloudError('INVALID_CONFIG', `bad kiosk id "${input.kioskId}"`);
  const secret = input.secret ?? randomBytes(24).toString('base64url');
  const rows = await db.query(
    `INSERT INTO kiosks (kiosk_id, name, credential_hash, tariff_currency, tariff_price_minor, tariff_volume_ml)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kiosk_id) DO NOTHING RETURNING kiosk_id`,
    [
      input.kioskId,
      input.name ?? input.kioskId,
      await hashSecret(secret),
      input.tariff?.currency ?? null,
      input.tariff?.priceMinor ?? null,
      input.tariff?.volumeMl ?? null,
    ],
  );
  if (rows.length === 0) throw new CloudError('KIOSK_EXISTS', `kiosk ${input.kioskId} already exists`);
  return { kioskId: input.kioskId, secret };
}

export async function kioskTariff(db: Queryable, kioskId: string): Promise<Tariff | undefined> {
  const rows = await db.query<{
    tariff_currency: string | null;
    tariff_price_minor: number | null;
    tariff_volume_ml: number | null;
  }>('SELECT tariff_currency, tariff_price_minor, tariff_volume_ml FROM kiosks WHERE kiosk_id = $1', [kioskId]);
  const row = rows[0];
  if (!row?.tariff_currency || !row.tariff_price_minor || !row.tariff_volume_ml) return undefined;
  return { currency: row.tariff_currency, priceMinor: row.tariff_price_minor, volumeMl: row.tariff_volume_ml };
}

/**
 * Checks kiosk credentials. A scrypt check costs milliseconds, so a secret that verified once is
 * remembered as a SHA-256 matcher (in memory only). Remembered credentials answer without the
 * database (a change woke every kiosk, and each pulls again): `forget` drops them when kiosks
 * change (the cloud calls it on their NOTIFY), and each is looked up again after `maxAgeMs`
 * anyway, in case a notification was lost. A secret that does not match is always checked
 * against the database, so a newly rotated one is accepted at once.
 */
export class KioskAuthenticator {
  private readonly verified = new Map<
    string,
    { hash: string; matches: (offered: unknown) => boolean; checkedAt: number }
  >();
  /** Moves at every `forget`, so a lookup that raced one does not remember a stale hash. */
  private generation = 0;

  constructor(
    private readonly db: Queryable,
    private readonly maxAgeMs = 30_000,
  ) {}

  forget(): void {
    this.verified.clear();
    this.generation += 1;
  }

  async authenticate(kioskId: string, secret: string): Promise<boolean> {
    const known = this.verified.get(kioskId);
    if (known && Date.now() - known.checkedAt < this.maxAgeMs && known.matches(secret)) return true;
    const generation = this.generation;
    const rows = await this.db.query<{ credential_hash: string }>(
      'SELECT credential_hash FROM kiosks WHERE kiosk_id = $1',
      [kioskId],
    );
    const hash = rows[0]?.credential_hash;
    if (!hash) return false;
    const cached = this.verified.get(kioskId);
    const matches =
      cached?.hash === hash ? cached.matches : (await verifySecret(secret, hash)) ? secretMatcher(secret) : undefined;
    if (!matches?.(secret)) return false;
    if (generation === this.generation) this.verified.set(kioskId, { hash, matches, checkedAt: Date.now() });
    return true;
  }
}
