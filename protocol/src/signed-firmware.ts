import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import * as z from 'zod/mini';
import { TusafisheError } from './errors.js';
import { FIRMWARE_SIGNATURE_PATTERN, firmwareSigningText, type FirmwareRelease } from './firmware-signature.js';
import { FirmwareCounter } from './schema-parts.js';

/**
 * The signed firmware file a release produces and a technician uploads:
 * `TSFW1\n` + one JSON line (version, counter, size, sha256, signature) + the image bytes.
 * Node-only (node:crypto); the dispenser gets the same fields in its `ota` command.
 */

const MAGIC = 'TSFW1\n';
/** A manifest line is ~250 bytes; anything longer is not one. */
const MAX_MANIFEST_BYTES = 1024;

export type FirmwareSignatureErrorCode = 'FIRMWARE_UNSIGNED' | 'FIRMWARE_MALFORMED' | 'FIRMWARE_BAD_SIGNATURE';

export class FirmwareSignatureError extends TusafisheError<FirmwareSignatureErrorCode> {}

/** As dispensers report it (≤ 32 characters), printable, no spaces. */
const FirmwareVersion = z.string().check(z.minLength(1), z.maxLength(32), z.regex(/^[\x21-\x7e]+$/));

const Manifest = z.object({
  version: FirmwareVersion,
  counter: FirmwareCounter,
  size: z.int().check(z.minimum(1)),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  /** Ed25519 over firmwareSigningText(), base64. */
  signature: z.string().check(z.regex(FIRMWARE_SIGNATURE_PATTERN)),
});
export type SignedFirmwareManifest = z.infer<typeof Manifest>;

/** A raw Ed25519 public key (base64, 32 bytes) as a KeyObject; throws on anything else. */
export function releasePublicKey(base64: string): KeyObject {
  const raw = Buffer.from(base64, 'base64');
  if (raw.byteLength !== 32 || raw.toString('base64') !== base64)
    throw new FirmwareSignatureError('FIRMWARE_MALFORMED', 'a release public key is 32 bytes, base64');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** A new release key pair: the private key as PKCS#8 PEM (keep it offline), the public key raw, base64. */
export function generateReleaseKey(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x ?? '';
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: Buffer.from(x, 'base64url').toString('base64'),
  };
}

/** The public key (raw, base64) of a PKCS#8 PEM private key. */
export function publicKeyOf(privateKeyPem: string): string {
  const x = createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'jwk' }).x ?? '';
  return Buffer.from(x, 'base64url').toString('base64');
}

/** Signs an image: the signed file to upload, and its manifest. */
export function signFirmware(
  image: Uint8Array,
  release: { version: string; counter: number },
  privateKeyPem: string,
): { file: Buffer; manifest: SignedFirmwareManifest } {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new FirmwareSignatureError('FIRMWARE_MALFORMED', 'the release key must be an Ed25519 private key');
  const fields: FirmwareRelease = {
    version: release.version,
    counter: release.counter,
    size: image.byteLength,
    sha256: createHash('sha256').update(image).digest('hex'),
  };
  const signature = sign(null, Buffer.from(firmwareSigningText(fields)), key).toString('base64');
  const manifest = parseManifest({ ...fields, signature });
  return { file: Buffer.concat([Buffer.from(`${MAGIC}${JSON.stringify(manifest)}\n`), image]), manifest };
}

/** True when the release key signed exactly these fields. */
export function verifyFirmwareRelease(manifest: SignedFirmwareManifest, publicKey: KeyObject): boolean {
  const { signature, ...fields } = manifest;
  return verify(null, Buffer.from(firmwareSigningText(fields)), publicKey, Buffer.from(signature, 'base64'));
}

/** Reads a signed file and checks it against the release key: the manifest and the image it covers, or a typed refusal. */
export function readSignedFirmware(
  file: Buffer,
  publicKey: KeyObject,
): { manifest: SignedFirmwareManifest; image: Buffer } {
  if (!file.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC)))
    throw new FirmwareSignatureError(
      'FIRMWARE_UNSIGNED',
      'not a signed firmware file: sign the image with "npm run provision -- firmware sign"',
    );
  const end = file.indexOf(0x0a, MAGIC.length);
  if (end < 0 || end - MAGIC.length > MAX_MANIFEST_BYTES)
    throw new FirmwareSignatureError('FIRMWARE_MALFORMED', 'the signed file has no manifest line');
  let json: unknown;
  try {
    json = JSON.parse(file.subarray(MAGIC.length, end).toString('utf8'));
  } catch {
    throw new FirmwareSignatureError('FIRMWARE_MALFORMED', 'the manifest is not JSON');
  }
  const manifest = parseManifest(json);
  const image = file.subarray(end + 1);
  if (image.byteLength !== manifest.size || createHash('sha256').update(image).digest('hex') !== manifest.sha256)
    throw new FirmwareSignatureError('FIRMWARE_BAD_SIGNATURE', 'the image is not the one that was signed');
  if (!verifyFirmwareRelease(manifest, publicKey))
    throw new FirmwareSignatureError('FIRMWARE_BAD_SIGNATURE', 'the signature is not from the release key');
  return { manifest, image };
}

function parseManifest(json: unknown): SignedFirmwareManifest {
  const parsed = Manifest.safeParse(json);
  if (!parsed.success)
    throw new FirmwareSignatureError(
      'FIRMWARE_MALFORMED',
      `invalid manifest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}
