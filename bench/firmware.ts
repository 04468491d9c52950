/**
 * Bundles the dispenser's device build (Moddable XS on ESP32) the way it ships: one
 * minified ES module, runtime modules left external, and reports its size.
 * Usage: npm run bench:firmware
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../dispenser-firmware/src/device/main.ts', import.meta.url));
const OUTFILE = fileURLToPath(new URL('../dispenser-firmware/dist/device/dispenser.js', import.meta.url));
const TARGET_BYTES = 48 * 1024;
/** Provided by the Moddable runtime (see dispenser-firmware/src/device/moddable.d.ts). */
const RUNTIME_MODULES = ['embedded:*', 'timer', 'time', 'preference', 'moddable/mqtt', 'tusafishe-native'];

const result = await build({
  entryPoints: [ENTRY],
  outfile: OUTFILE,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  external: RUNTIME_MODULES,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const code = readFileSync(OUTFILE);
const nodeImports = Object.values(result.metafile.outputs)
  .flatMap((output) => output.imports)
  .map((entry) => entry.path)
  .filter(
    (path) =>
      !RUNTIME_MODULES.some((allowed) =>
        allowed.endsWith('*') ? path.startsWith(allowed.slice(0, -1)) : path === allowed,
      ),
  );
if (nodeImports.length)
  throw new Error(`device bundle imports modules the device does not have: ${nodeImports.join(', ')}`);

const inputs = Object.entries(result.metafile.outputs)[0]?.[1].inputs ?? {};
const byPackage = new Map<string, number>();
for (const [path, input] of Object.entries(inputs)) {
  const key = path.includes('node_modules/')
    ? path.split('node_modules/')[1]!.split('/')[0]!
    : path.split('/').slice(0, 2).join('/');
  byPackage.set(key, (byPackage.get(key) ?? 0) + input.bytesInOutput);
}
for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`${name.padEnd(40)} ${bytes}`);
console.log(
  JSON.stringify({
    bundle_bytes: code.byteLength,
    gzip_bytes: gzipSync(code).byteLength,
    target_bytes: TARGET_BYTES,
    within_target: code.byteLength <= TARGET_BYTES,
  }),
);
