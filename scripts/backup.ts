/**
 * `npm run backup -- cloud|gateway --out FILE` and `npm run restore -- cloud|gateway FILE`.
 * The cloud: the PostgreSQL server in DATABASE_URL (pg_dump custom format, online), else the
 * embedded PGlite in <data dir>/cloud-pg (stop the cloud first). The gateway: an online SQLite
 * backup of <data dir>/gateway.db; a restore needs the gateway stopped.
 */
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { backupCloud, restoreCloud } from '@tusafishe/cloud/backup';
import { backupGateway, restoreGateway } from '@tusafishe/gateway/backup';

const USAGE = `usage:
  npm run backup -- cloud --out FILE [--data-dir DIR]      (DATABASE_URL, DATABASE_SCHEMA from the environment)
  npm run backup -- gateway --out FILE [--data-dir DIR]
  npm run restore -- cloud FILE [--data-dir DIR] [--replace]
  npm run restore -- gateway FILE [--data-dir DIR]
--data-dir defaults to DATA_DIR, else ./data (the cloud's PGlite is in <dir>/cloud-pg, the gateway's file is <dir>/gateway.db)
`;

const Env = z.object({
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case schema name')
    .optional(),
});

async function runBackupCommand(
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
  const settings = Env.parse(env);
  const dataDir = values['data-dir'] ?? settings.DATA_DIR;
  const [part, file] = action === 'backup' ? [positionals[0], values.out] : [positionals[0], positionals[1]];
  if ((part !== 'cloud' && part !== 'gateway') || !file) throw new UsageError(USAGE);

  if (part === 'cloud') {
    const target = {
      databaseUrl: settings.DATABASE_URL,
      databaseSchema: settings.DATABASE_SCHEMA,
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

class UsageError extends Error {}

const action = process.argv[2] === 'restore' ? 'restore' : 'backup';
runBackupCommand(action, process.argv.slice(3), process.env, (line) => void process.stdout.write(`${line}\n`)).catch(
  (error: unknown) => {
    const message =
      error instanceof z.ZodError ? z.prettifyError(error) : error instanceof Error ? error.message : String(error);
    process.stderr.write(error instanceof UsageError ? message : `${action} failed: ${message}\n`);
    process.exitCode = 2;
  },
);
