/**
 * `npm run backup -- cloud|gateway --out FILE` and `npm run restore -- cloud|gateway FILE`.
 * The cloud: the PostgreSQL server in DATABASE_URL (pg_dump custom format, online), else the
 * embedded PGlite in <data dir>/cloud-pg (stop the cloud first). The gateway: an online SQLite
 * backup of <data dir>/gateway.db; a restore needs the gateway stopped.
 */
import { runBackupCommand, UsageError } from './backup-command.js';

const action = process.argv[2] === 'restore' ? 'restore' : 'backup';
runBackupCommand(action, process.argv.slice(3), process.env, (line) => void process.stdout.write(`${line}\n`)).catch(
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(error instanceof UsageError ? message : `${action} failed: ${message}\n`);
    process.exitCode = 2;
  },
);
