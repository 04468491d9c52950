/**
 * Signed dispenser firmware, the part every runtime shares (the dispenser verifies with
 * this; signing and the signed-file format are Node-only, in `./signed-firmware`). No
 * schemas here: the firmware imports this module, and zod's schemas do not fit its RAM.
 */

/**
 * The fleet's release public key (raw Ed25519, base64), built into the dispenser firmware
 * and the gateway's default. Its private half never lives on a kiosk or in this repository:
 * `npm run provision -- firmware keygen` makes a release key offline; put its public key here
 * before building a release (the key committed here has no private half anywhere).
 */
export const FIRMWARE_RELEASE_PUBLIC_KEY = 'MvX7BRy4IUPTqbMXySHy7LGssopbG20dem/xbCITFkM=';

/** Anti-rollback counter (0 … this): a dispenser never installs an image whose counter is below its own. */
export const FIRMWARE_COUNTER_MAX = 0x7fffffff;

/** An Ed25519 signature (64 bytes) in base64. */
export const FIRMWARE_SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{86}==$/;

/** What a release signature covers. */
export interface FirmwareRelease {
  version: string;
  counter: number;
  size: number;
  sha256: string;
}

/** The text the release key signs (UTF-8): version, counter and the exact image bytes (size, SHA-256). */
export function firmwareSigningText({ version, counter, size, sha256 }: FirmwareRelease): string {
  return `tusafishe-firmware/1\n${version}\n${counter}\n${size}\n${sha256}`;
}
