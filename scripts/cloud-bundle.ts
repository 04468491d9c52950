/**
 * Bundles the cloud for its image: our TypeScript (cloud + protocol) becomes one JavaScript
 * file; npm packages stay external, installed from the lockfile with production dependencies only.
 */
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { externalPackages } from './gateway-bundle.js';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CLOUD_DIST = join(root, 'cloud/dist');

/** Builds `cloud/dist/main.js` (or into `outDir`, inside the repository so node_modules resolve). */
export async function buildCloud(outDir = CLOUD_DIST): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  const outfile = join(outDir, 'main.js');
  await build({
    entryPoints: [join(root, 'cloud/src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: true,
    external: await externalPackages(['cloud', 'protocol']),
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`cloud bundle: ${await buildCloud()}`);
