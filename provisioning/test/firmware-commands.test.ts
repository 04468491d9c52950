import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSignedFirmware, releasePublicKey } from '@tusafishe/protocol/signed-firmware';
import { printedValue, runCommand } from './run-command.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tusafishe-fw-sign-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('firmware keygen and sign', () => {
  it('makes a release key and signs an image that verifies against the printed public key', async () => {
    const keyFile = join(dir, 'release.pem');
    const keygen = await runCommand(['firmware', 'keygen', keyFile]);
    expect(keygen.code).toBe(0);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const publicKey = printedValue(keygen.out, 'FIRMWARE_PUBLIC_KEY');
    expect(keygen.out).not.toContain('PRIVATE KEY');

    const image = join(dir, 'dispenser.bin');
    await writeFile(image, Buffer.alloc(5000, 3));
    const signed = await runCommand(['firmware', 'sign', image, '--version', 'tusafishe-fw/0.2.0', '--counter', '4'], {
      env: { FIRMWARE_SIGNING_KEY_FILE: keyFile },
    });
    expect(signed).toMatchObject({ code: 0, err: '' });
    const read = readSignedFirmware(await readFile(`${image}.tsfw`), releasePublicKey(publicKey));
    expect(read.manifest).toMatchObject({ version: 'tusafishe-fw/0.2.0', counter: 4, size: 5000 });
    expect(read.image.equals(Buffer.alloc(5000, 3))).toBe(true);
  });

  it('refuses to overwrite a key or a signed file, a missing key and a bad counter, writing nothing', async () => {
    const keyFile = join(dir, 'release.pem');
    await runCommand(['firmware', 'keygen', keyFile]);
    const before = await readFile(keyFile, 'utf8');
    expect(await runCommand(['firmware', 'keygen', keyFile])).toMatchObject({ code: 1 });
    expect(await readFile(keyFile, 'utf8')).toBe(before);

    const image = join(dir, 'dispenser.bin');
    await writeFile(image, Buffer.alloc(100, 1));
    const sign = (...extra: string[]) =>
      runCommand(['firmware', 'sign', image, '--version', 'tusafishe-fw/0.2.0', ...extra]);
    expect(await sign('--counter', '-1', '--key', keyFile)).toMatchObject({ code: 2 });
    const missing = await sign('--counter', '1', '--key', join(dir, 'nope.pem'));
    expect(missing).toMatchObject({ code: 1, err: expect.stringContaining('cannot read the release key') });
    expect(await sign('--counter', '1', '--key', image)).toMatchObject({
      code: 1,
      err: expect.stringContaining('cannot sign'),
    });
    expect((await sign('--counter', '1', '--key', keyFile)).code).toBe(0);
    expect((await sign('--counter', '1', '--key', keyFile)).code).toBe(1);
  });
});
