/** The code of `npm run backup` / `npm run restore` (scripts/backup.ts), callable in-process by tests. */
import { parseArgs } from 'node:util';
import { backupCloud, restoreCloud } from '@tusafishe/cloud/backup';
import { backupGateway, restoreGateway } from '@tusafishe/gateway/backup';

const USAGE = `usage:
  npm run backup -- cloud --out FILE [--data-dir DIR]      (DATABASE_URL, DATABASE_SCHEMA from the environment)
  npm run backup -- gateway --out FILE [--data-dir DIR]
  npm run restore -- cloud FILE [--data-dir DIR] [--replace]
  npm run restore -- gateway FILE [--data-dir DIR]
--data-dir defaults to DATA_DIR, else ./data (the cloud's PGlite is in <dir>/cloud-pg, the gateway's file is <dir>/gateway.db)
`;

/** The environment the cloud itself reads for its database (cloud/src/config.ts). */
function readEnv(env: NodeJS.ProcessEnv) {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new Error('DATABASE_URL must be a postgres:// URL');
  return { dataDir: env.DATA_DIR || './data', databaseUrl, databaseSchema: env.DATABASE_SCHEMA || undefined };
}

/** Runs one backup or restore; throws `UsageError` (with the usage text) for bad arguments. */
export async function runBackupCommand(
  action: 'backup' | 'restore',
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      'data-dir': { type: 'string' },
      replace: { type: 'boolean', default: false },
    },
  });
  const settings = readEnv(env);
  const dataDir = values['data-dir'] ?? settings.dataDir;
  const [part, file] = action === 'backup' ? [positionals[0], values.out] : [positionals[0], positionals[1]];
  if ((part !== 'cloud' && part !== 'gateway') || !file) throw new UsageError(USAGE);

  if (part === 'cloud') {
    const target = {
      databaseUrl: settings.databaseUrl,
      databaseSchema: settings.databaseSchema,
      databasePoolSize: 2,
      dataDir,
    };
    if (action === 'backup') {
      const result = await backupCloud(target, file);
      out(`cloud backup (${result.kind}, ${result.bytes} bytes) written to ${result.file}`);
    } else {
      const kind = await restoreCloud(target, file, { replace: values.replace });
      out(`cloud restored from ${file} (${kind}); start the cloud`);
    }
  } else if (action === 'backup') {
    const result = await backupGateway(dataDir, file);
    out(`gateway backup (${result.bytes} bytes) written to ${result.file}`);
  } else {
    const { replaced } = await restoreGateway(dataDir, file);
    out(
      `gateway restored from ${file}${replaced ? `; the database it replaced is kept as ${replaced}` : ''}; ` +
        'start the gateway: it re-syncs with the cloud',
    );
  }
}

export class UsageError extends Error {}
