import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A migrated PGlite data directory as a `dumpDataDir` tarball, built once per change of the
 * migrations or of PGlite and kept in node_modules/.cache: a test cloud that loads it skips
 * initdb and the migrations, most of a PGlite start (CloudOptions `pgliteImage`).
 */
export async function pgliteImage(): Promise<string> {
  const file = join(repo, 'node_modules/.cache/tusafishe', `pglite-${await imageKey()}.tar`);
  if (existsSync(file)) return file;
  // Imported only to build: vitest's main process then never loads PGlite and the cloud's store.
  const { PGlite } = await import('@electric-sql/pglite');
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const { openCloudDatabase } = await import('../src/store/open-database.js');
  const dir = await mkdtemp(join(tmpdir(), 'pglite-image-'));
  try {
    await (await openCloudDatabase({ dataDir: dir })).close();
    const lite = await PGlite.create({ dataDir: join(dir, 'cloud-pg'), extensions: { pg_trgm } });
    const tarball = await lite.dumpDataDir('none');
    await lite.close();
    await mkdir(dirname(file), { recursive: true });
    // Written aside and renamed: runs building it at once never read half a file.
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, new Uint8Array(await tarball.arrayBuffer()));
    await rename(partial, file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return file;
}

async function imageKey(): Promise<string> {
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const hash = createHash('sha256');
  hash.update(await readFile(join(repo, 'cloud/src/store/migrations.ts')));
  hash.update(await readFile(join(dirname(pglite), '..', 'package.json')));
  return hash.digest('hex').slice(0, 16);
}
