/**
 * Bundles the dispenser's device build (Moddable XS on ESP32) the way it ships: one
 * minified ES module, runtime modules left external, and reports its size.
 * Usage: npm run bench:firmware
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { DEVICE_ENTRY, bundleFirmware } from '@tusafishe/dispenser-firmware/build';
import { measureFirmwareOnXs } from './firmware-xs.js';

const OUTFILE = fileURLToPath(new URL('../dispenser-firmware/dist/device/dispenser.js', import.meta.url));
const TARGET_BYTES = 48 * 1024;

const { code, metafile } = await bundleFirmware(DEVICE_ENTRY, OUTFILE);
mkdirSync(dirname(OUTFILE), { recursive: true });
writeFileSync(OUTFILE, code);

const inputs = Object.entries(metafile.outputs)[0]?.[1].inputs ?? {};
const byPackage = new Map<string, number>();
for (const [path, input] of Object.entries(inputs)) {
  const key = path.includes('node_modules/')
    ? path.split('node_modules/')[1]!.split('/')[0]!
    : path.split('/').slice(0, 2).join('/');
  byPackage.set(key, (byPackage.get(key) ?? 0) + input.bytesInOutput);
}
for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`${name.padEnd(40)} ${bytes}`);
const xs = await measureFirmwareOnXs();
console.log(
  JSON.stringify({
    bundle_bytes: code.byteLength,
    gzip_bytes: gzipSync(code).byteLength,
    target_bytes: TARGET_BYTES,
    within_target: code.byteLength <= TARGET_BYTES,
    ...xs,
  }),
);
