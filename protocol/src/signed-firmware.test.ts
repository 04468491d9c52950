import { describe, expect, it } from 'vitest';
import {
  generateReleaseKey,
  publicKeyOf,
  readSignedFirmware,
  releasePublicKey,
  signFirmware,
} from './signed-firmware.js';

const IMAGE = Buffer.from('dispenser image '.repeat(100));

describe('signed firmware files', () => {
  const release = generateReleaseKey();
  const key = releasePublicKey(release.publicKey);

  it('reads back what the release key signed', () => {
    expect(publicKeyOf(release.privateKeyPem)).toBe(release.publicKey);
    const { file, manifest } = signFirmware(
      IMAGE,
      { version: 'tusafishe-fw/0.2.0', counter: 3 },
      release.privateKeyPem,
    );
    const read = readSignedFirmware(file, key);
    expect(read.manifest).toEqual(manifest);
    expect(read.manifest).toMatchObject({ version: 'tusafishe-fw/0.2.0', counter: 3, size: IMAGE.byteLength });
    expect(read.image.equals(IMAGE)).toBe(true);
  });

  it('refuses an unsigned image, a changed byte, a changed manifest field and another key', () => {
    const { file } = signFirmware(IMAGE, { version: 'tusafishe-fw/0.2.0', counter: 3 }, release.privateKeyPem);
    expect(() => readSignedFirmware(IMAGE, key)).toThrow(expect.objectContaining({ code: 'FIRMWARE_UNSIGNED' }));
    const tampered = Buffer.from(file);
    tampered.writeUInt8(tampered.at(-1)! ^ 1, tampered.length - 1);
    expect(() => readSignedFirmware(tampered, key)).toThrow(
      expect.objectContaining({ code: 'FIRMWARE_BAD_SIGNATURE' }),
    );
    const relabelled = Buffer.from(file.toString('latin1').replace('"counter":3', '"counter":9'), 'latin1');
    expect(() => readSignedFirmware(relabelled, key)).toThrow(
      expect.objectContaining({ code: 'FIRMWARE_BAD_SIGNATURE' }),
    );
    const other = releasePublicKey(generateReleaseKey().publicKey);
    expect(() => readSignedFirmware(file, other)).toThrow(expect.objectContaining({ code: 'FIRMWARE_BAD_SIGNATURE' }));
    expect(() => releasePublicKey('not a key')).toThrow(expect.objectContaining({ code: 'FIRMWARE_MALFORMED' }));
  });
});
