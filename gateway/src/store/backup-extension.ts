import * as z from 'zod';
import type { GatewayExtension } from '../extension.js';
import type { GatewayCore } from '../gateway.js';
import { startDailyBackups } from './backup.js';

const BackupEnv = z.object({
  /** Backups kept in DATA_DIR/backups. */
  GATEWAY_BACKUP_KEEP: z.coerce.number().int().min(1).default(4),
  /**
   * Hours between backups while the cloud has every event (it holds the ledger and the replica, so
   * a backup then only saves a re-pull: weekly). 0 turns them off.
   */
  GATEWAY_BACKUP_INTERVAL_HOURS: z.coerce.number().min(0).default(168),
  /** Hours between backups while events wait unpushed for over an hour (then only the card holds them). */
  GATEWAY_BACKUP_UNSYNCED_INTERVAL_HOURS: z.coerce.number().positive().default(24),
  /**
   * Copy the customer replica too. Off: a restored backup pulls it again from the cloud before it
   * serves anyone, and each backup writes the kiosk's own data, not ~290 MB at a million customers.
   */
  GATEWAY_BACKUP_REPLICA: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

/** Scheduled online backups of the gateway's database into DATA_DIR/backups; null when turned off. */
export function backupExtension(core: GatewayCore, env: NodeJS.ProcessEnv): GatewayExtension | null {
  const settings = BackupEnv.parse(env);
  if (settings.GATEWAY_BACKUP_INTERVAL_HOURS === 0) return null;
  let backups: ReturnType<typeof startDailyBackups> | null = null;
  return {
    name: 'backups',
    async start() {
      backups = startDailyBackups({
        db: core.store.db,
        dataDir: core.dataDir,
        keep: settings.GATEWAY_BACKUP_KEEP,
        replica: settings.GATEWAY_BACKUP_REPLICA,
        intervalMs: settings.GATEWAY_BACKUP_INTERVAL_HOURS * 3_600_000,
        unsyncedIntervalMs: settings.GATEWAY_BACKUP_UNSYNCED_INTERVAL_HOURS * 3_600_000,
        logger: core.logger.child({ module: 'backup' }),
      });
    },
    async stop() {
      await backups?.close();
      backups = null;
    },
  };
}
