import { readFileSync, writeFileSync } from 'node:fs';
import * as z from 'zod';
import {
  FirmwareSignatureError,
  generateReleaseKey,
  publicKeyOf,
  signFirmware,
} from '@tusafishe/protocol/signed-firmware';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';

/** Reads a file the operator named; a missing one is a clear refusal, not a stack trace. */
function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ProvisioningError('FIRMWARE_REFUSED', `cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
}

/** Writes a new file, never over an existing one (a release key overwritten is a fleet that can no longer update). */
function writeNew(path: string, data: string | Buffer, mode: number): void {
  try {
    writeFileSync(path, data, { flag: 'wx', mode });
  } catch (error) {
    throw new ProvisioningError('FIRMWARE_REFUSED', `cannot write ${path}: ${(error as Error).message}`);
  }
}

export const firmwareKeygen = defineCommand({
  name: 'firmware keygen',
  summary:
    "Makes the fleet's Ed25519 release key: the private key to a new file (mode 0600; keep it offline, never on a kiosk or in the repository), the public key printed for the firmware build and the gateways.",
  positionals: ['key-file'],
  options: {},
  notes: `example: npm run provision -- firmware keygen /media/release-usb/tusafishe-release.pem
then: put the printed public key in protocol/src/firmware-signature.ts (FIRMWARE_RELEASE_PUBLIC_KEY)
and build the firmware; gateways of a test fleet can take it as FIRMWARE_PUBLIC_KEY instead.`,
  schema: z.object({ 'key-file': z.string().min(1) }),
  async run(input, io) {
    const { privateKeyPem, publicKey } = generateReleaseKey();
    writeNew(input['key-file'], privateKeyPem, 0o600);
    io.out(`Release key written to ${input['key-file']} (keep it offline).\n\n  FIRMWARE_PUBLIC_KEY=${publicKey}\n`);
  },
});

export const firmwareSign = defineCommand({
  name: 'firmware sign',
  summary:
    'Signs a dispenser firmware image with the release key: writes the signed file a technician uploads on the gateway. The counter is the anti-rollback level: dispensers refuse an image whose counter is below the highest they installed.',
  positionals: ['image'],
  options: {
    key: { type: 'string', value: 'file', env: 'FIRMWARE_SIGNING_KEY_FILE', description: 'release private key (PEM)' },
    version: { type: 'string', value: 'version', description: 'as the firmware reports it, e.g. tusafishe-fw/0.2.0' },
    counter: { type: 'string', value: 'n', description: 'anti-rollback counter; raise it to retire older releases' },
    out: { type: 'string', value: 'file', description: 'signed file to write', default: '<image>.tsfw' },
  },
  notes:
    'example: npm run provision -- firmware sign build/dispenser.bin --key /media/release-usb/tusafishe-release.pem --version tusafishe-fw/0.2.0 --counter 2',
  schema: z.object({
    image: z.string().min(1),
    key: z.string().min(1, 'give --key or FIRMWARE_SIGNING_KEY_FILE'),
    version: z
      .string()
      .min(1)
      .max(32)
      .regex(/^[\x21-\x7e]+$/, 'printable characters without spaces'),
    counter: z.coerce.number().int().min(0).max(0x7fffffff),
    out: z.string().min(1).optional(),
  }),
  async run(input, io) {
    const image = readInput(input.image, 'image');
    if (image.byteLength === 0) throw new ProvisioningError('FIRMWARE_REFUSED', `${input.image} is empty`);
    const keyPem = readInput(input.key, 'release key').toString('utf8');
    let signed: ReturnType<typeof signFirmware>;
    try {
      signed = signFirmware(image, { version: input.version, counter: input.counter }, keyPem);
    } catch (error) {
      const reason = error instanceof FirmwareSignatureError ? error.message : 'not a PEM private key';
      throw new ProvisioningError('FIRMWARE_REFUSED', `cannot sign with ${input.key}: ${reason}`);
    }
    const out = input.out ?? `${input.image}.tsfw`;
    writeNew(out, signed.file, 0o644);
    const { version, counter, size, sha256 } = signed.manifest;
    io.out(
      `Signed ${version} (counter ${counter}, ${size} bytes, sha256 ${sha256}) with the key ${publicKeyOf(keyPem)}\n  → ${out}\nUpload it on a gateway's Firmware page.\n`,
    );
  },
});
