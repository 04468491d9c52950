import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** Provided by the Moddable runtime on the device (see src/device/moddable.d.ts). */
export const RUNTIME_MODULES = [
  'embedded:*',
  'timer',
  'time',
  'preference',
  'moddable/mqtt',
  'securesocket',
  'tusafishe-native',
];

export const DEVICE_ENTRY = fileURLToPath(new URL('../device/main.ts', import.meta.url));
/** The same firmware on the HAL that forwards to a Node host (tests and the bench run it in an xsnap worker). */
export const XS_ENTRY = fileURLToPath(new URL('../xs/xs-main.ts', import.meta.url));

export interface FirmwareBundle {
  code: Uint8Array;
  metafile: Metafile;
}

/** Packages the device cannot afford: zod's schemas, built at module load, took 96 % of XS's RAM. */
const TOO_BIG_FOR_THE_DEVICE = ['/node_modules/zod/'];

/**
 * The firmware as it ships: one minified ES module (es2022), runtime modules left external.
 * Fails if the bundle imports anything else (a Node module would not exist on the device),
 * or contains zod (the firmware validates with `@tusafishe/protocol/dispenser`).
 */
export async function bundleFirmware(entry: string, outfile: string): Promise<FirmwareBundle> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    write: false,
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
  const foreign = Object.values(result.metafile.outputs)
    .flatMap((output) => output.imports)
    .map((entry) => entry.path)
    .filter(
      (path) =>
        !RUNTIME_MODULES.some((allowed) =>
          allowed.endsWith('*') ? path.startsWith(allowed.slice(0, -1)) : path === allowed,
        ),
    );
  if (foreign.length)
    throw new Error(`firmware bundle imports modules the device does not have: ${foreign.join(', ')}`);
  const heavy = Object.values(result.metafile.outputs)
    .flatMap((output) => Object.entries(output.inputs))
    .filter(
      ([path, input]) => input.bytesInOutput > 0 && TOO_BIG_FOR_THE_DEVICE.some((part) => `/${path}`.includes(part)),
    )
    .map(([path]) => path);
  if (heavy.length) throw new Error(`firmware bundle contains modules too big for the device: ${heavy.join(', ')}`);
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild wrote no bundle');
  return { code: output.contents, metafile: result.metafile };
}
