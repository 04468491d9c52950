import { createHash, verify, type KeyObject } from 'node:crypto';
import { releasePublicKey } from '@tusafishe/protocol/signed-firmware';
import { FIRMWARE_VERSION } from '../firmware-settings.js';
import type { FirmwareImage, FirmwareSlots, Storage } from '../hal.js';

/** The flash key naming the image the simulated board boots (absent: the build's own version). */
const BOOT_IMAGE_KEY = 'boot_image';
const DOWNLOAD_TIMEOUT_MS = 60_000;

/**
 * The simulated board's two firmware slots: the image is fetched and verified in memory
 * (the inactive slot) and only then is the boot image switched, in one durable write.
 * The simulator runs the same code whatever the version; the version is what changes.
 */
export class HostFirmwareSlots implements FirmwareSlots {
  readonly #releaseKey: KeyObject;

  constructor(
    private readonly storage: Storage,
    /** False once the power is cut: a download finishing after that changes nothing. */
    private readonly powered: () => boolean,
    /** The release public key this simulated build trusts (raw Ed25519, base64). */
    releaseKey: string,
  ) {
    this.#releaseKey = releasePublicKey(releaseKey);
  }

  running(): string {
    return this.storage.get(BOOT_IMAGE_KEY) ?? FIRMWARE_VERSION;
  }

  verify(text: string, signature: string): boolean {
    return verify(null, Buffer.from(text), this.#releaseKey, Buffer.from(signature, 'base64'));
  }

  install(image: FirmwareImage, done: (error?: string) => void): void {
    downloadVerified(image).then(
      () => {
        if (!this.powered()) return;
        this.storage.set(BOOT_IMAGE_KEY, image.version);
        done();
      },
      (error: unknown) => {
        if (this.powered()) done(error instanceof Error ? error.message : String(error));
      },
    );
  }
}

async function downloadVerified(image: FirmwareImage): Promise<void> {
  const response = await fetch(image.url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) }).catch(() => {
    throw new Error('download failed: gateway not reachable');
  });
  if (!response.ok) throw new Error(`download failed: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength !== image.size)
    throw new Error(`image refused: ${bytes.byteLength} bytes, expected ${image.size}`);
  if (createHash('sha256').update(bytes).digest('hex') !== image.sha256)
    throw new Error('image refused: SHA-256 mismatch');
}
