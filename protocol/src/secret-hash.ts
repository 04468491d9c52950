import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ProtocolError } from './errors.js';

/**
 * Salted hashes of PINs and credentials (dispenser secrets, kiosk keys, technician
 * passwords) as PHC strings: `$scrypt$ln=10,r=8,p=1$<salt>$<hash>` (base64, no padding).
 * For PINs the cloud makes them, gateways verify them (ARCHITECTURE §6), so the format is part
 * of the contract. Default cost: ~3 ms a hash on the CI machine, ~10 ms on a Pi 4,
 * fast enough for the keypad and slow enough to make bulk guessing of a stolen
 * replica expensive.
 */
export interface SecretHashCost {
  /** log2 of scrypt's N. */
  ln: number;
  r: number;
  p: number;
}

export const DEFAULT_SECRET_HASH_COST: SecretHashCost = { ln: 10, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(secret: string, salt: Buffer, cost: SecretHashCost): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** cost.ln, r: cost.r, p: cost.p, maxmem: 256 * 2 ** cost.ln * cost.r };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (buffer: Buffer): string => buffer.toString('base64').replace(/=+$/, '');

export async function hashSecret(secret: string, cost: SecretHashCost = DEFAULT_SECRET_HASH_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, cost);
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

interface ParsedSecretHash {
  cost: SecretHashCost;
  salt: Buffer;
  key: Buffer;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export function parseSecretHash(encoded: string): ParsedSecretHash {
  const match = PHC.exec(encoded);
  if (!match) throw new ProtocolError('INVALID_SECRET_HASH', 'PIN hash is not a $scrypt$ PHC string');
  const [, ln, r, p, salt, key] = match as unknown as [string, string, string, string, string, string];
  const cost = { ln: Number(ln), r: Number(r), p: Number(p) };
  if (cost.ln < 1 || cost.ln > 20 || cost.r < 1 || cost.p < 1) {
    throw new ProtocolError('INVALID_SECRET_HASH', 'PIN hash cost is out of range');
  }
  return { cost, salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
}

/** Constant-time check of a PIN against its PHC hash. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const { cost, salt, key } = parseSecretHash(encoded);
  const candidate = await derive(secret, salt, cost);
  return candidate.length === key.length && timingSafeEqual(candidate, key);
}
