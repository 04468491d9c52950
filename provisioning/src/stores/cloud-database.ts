import { join } from 'node:path';
import * as z from 'zod';
import { type Db, openCloudDatabase } from '@tusafishe/cloud/provisioning';

/**
 * Which cloud database a command works on: the PostgreSQL server in DATABASE_URL (production),
 * else the embedded PGlite database the cloud keeps in `<data dir>/cloud-pg`. PGlite is
 * single-process, so stop a cloud running on that data dir first.
 */
export const CloudTargetOptions = {
  'data-dir': {
    type: 'string',
    value: 'dir',
    env: 'DATA_DIR',
    description: 'cloud data dir (PGlite in <dir>/cloud-pg) when DATABASE_URL is unset',
    default: './data',
  },
} as const;

export const CloudTargetInput = {
  'data-dir': z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case schema name')
    .optional(),
};

export const CLOUD_TARGET_ENV = ['DATABASE_URL', 'DATABASE_SCHEMA'] as const;

export interface CloudTarget {
  'data-dir': string;
  DATABASE_URL?: string | undefined;
  DATABASE_SCHEMA?: string | undefined;
}

/** Opens (and migrates, like the cloud does at start) the cloud database. */
export function openCloudTarget(target: CloudTarget): Promise<Db> {
  return openCloudDatabase({
    databaseUrl: target.DATABASE_URL,
    databaseSchema: target.DATABASE_SCHEMA,
    databasePoolSize: 2,
    dataDir: target['data-dir'],
  });
}

/** Where the command works, for its output (never the URL: it may hold a password). */
export function describeCloudTarget(target: CloudTarget): string {
  return target.DATABASE_URL
    ? 'the PostgreSQL server in DATABASE_URL'
    : `PGlite in ${join(target['data-dir'], 'cloud-pg')}`;
}
