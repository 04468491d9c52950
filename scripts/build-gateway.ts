/**
 * Bundles the gateway for the Pi: our TypeScript (gateway + protocol) becomes one
 * JavaScript file; npm packages stay external and are installed from the lockfile
 * on the builder, so the device never compiles TypeScript.
 */
import { build } from 'esbuild';
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}gateway/dist`;

async function externalPackages(): Promise<string[]> {
  const names = new Set<string>();
  for (const part of ['gateway', 'protocol']) {
    const manifest = JSON.parse(await readFile(`${root}${part}/package.json`, 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      if (!name.startsWith('@tusafishe/')) names.add(name);
    }
  }
  // Subpath imports (e.g. `libphonenumber-js/max`, `zod/mini`) are external too.
  return [...names].flatMap((name) => [name, `${name}/*`]);
}

export async function buildGateway(): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [`${root}gateway/src/main.ts`],
    outfile: `${outDir}/main.js`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: await externalPackages(),
    logLevel: 'warning',
  });
  // SQL migrations are read at start from beside the code that applies them.
  await cp(`${root}gateway/src/store/migrations`, `${outDir}/migrations`, { recursive: true });
  return `${outDir}/main.js`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const entry = await buildGateway();
  console.log(`gateway bundle: ${entry}`);
}
