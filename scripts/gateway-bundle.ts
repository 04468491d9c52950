/**
 * Bundles the gateway for the Pi: our TypeScript (gateway + protocol) becomes one
 * JavaScript file; npm packages stay external and are installed from the lockfile
 * on the builder, so the device never compiles TypeScript.
 */
import { build } from 'esbuild';
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const GATEWAY_DIST = join(root, 'gateway/dist');

/** The npm dependencies of `parts`: installed from the lockfile in the image, never bundled. */
export async function externalPackages(parts: readonly string[]): Promise<string[]> {
  const names = new Set<string>();
  for (const part of parts) {
    const manifest = JSON.parse(await readFile(join(root, part, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      if (!name.startsWith('@tusafishe/')) names.add(name);
    }
  }
  // Subpath imports (e.g. `libphonenumber-js/max`, `zod/mini`) are external too.
  return [...names].flatMap((name) => [name, `${name}/*`]);
}

export interface BundleOptions {
  /** TypeScript entry point (absolute path). */
  entry: string;
  /** Output file (absolute path); the SQL migrations are copied beside it. Must sit inside the repo so node_modules resolve. */
  outfile: string;
  /** Further packages to leave external (e.g. ones only the entry itself imports). */
  external?: string[];
}

/** Bundles a gateway entry point exactly as the deployed gateway is bundled. */
export async function bundleGatewayEntry(options: BundleOptions): Promise<string> {
  const outDir = join(options.outfile, '..');
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [options.entry],
    outfile: options.outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: [...(await externalPackages(['gateway', 'protocol'])), ...(options.external ?? [])],
    logLevel: 'warning',
  });
  // SQL migrations are read at start from beside the code that applies them.
  await cp(join(root, 'gateway/src/store/migrations'), join(outDir, 'migrations'), { recursive: true });
  return options.outfile;
}

/**
 * Builds `gateway/dist/main.js` (or into `outDir`), what the balena image runs, and beside it
 * `provision.js`, the image's `provision` command for dispensers and technicians on the device.
 */
export async function buildGateway(outDir = GATEWAY_DIST): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  await bundleGatewayEntry({
    entry: join(root, 'provisioning/src/on-gateway-cli.ts'),
    outfile: join(outDir, 'provision.js'),
  });
  return bundleGatewayEntry({ entry: join(root, 'gateway/src/main.ts'), outfile: join(outDir, 'main.js') });
}
