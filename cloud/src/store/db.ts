import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';

/** The one database surface the cloud uses; implemented by a pg Pool and by embedded PGlite. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Calls `onNotify` for every NOTIFY on `channel`; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

// int8 and numeric arrive as strings from pg; the cloud's values fit in a JS number.
pg.types.setTypeParser(20, (value) => Number(value));

export interface PostgresDbOptions {
  connectionString: string;
  /** Schema every connection uses (tests give each file its own); created if missing. */
  schema?: string;
  maxConnections?: number;
}

export async function openPostgresDb(options: PostgresDbOptions): Promise<Db> {
  const searchPath = options.schema ? { options: `-c search_path=${options.schema}` } : {};
  if (options.schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema))
    throw new Error(`bad schema name ${options.schema}`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    ...searchPath,
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  if (options.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
  const listeners = new Set<Listener>();

  return {
    kind: 'postgres',
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async (sql, params) => (await client.query(sql, params)).rows,
          exec: async (sql) => void (await client.query(sql)),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async listen(channel, onNotify) {
      const listener = listenWithReconnect(options.connectionString, channel, onNotify);
      listeners.add(listener);
      await listener.ready;
      return async () => {
        listeners.delete(listener);
        await listener.stop();
      };
    },
    async close() {
      await Promise.all([...listeners].map((listener) => listener.stop()));
      await pool.end();
    },
  };
}

interface Listener {
  /** Resolves once the first connection listens (rejects if it cannot). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * LISTENs on its own connection (a pooled one would be handed to others). A lost connection is
 * made again, with backoff, and `onNotify` called once it listens again: whatever was notified
 * meanwhile is unknown.
 */
function listenWithReconnect(connectionString: string, channel: string, onNotify: () => void): Listener {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString });
    next.on('error', () => undefined);
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    if (stopped) return void (await next.end().catch(() => undefined));
    client = next;
    next.once('end', () => {
      client = undefined;
      if (!stopped) again(1000);
    });
  };
  const again = (delayMs: number): void => {
    retry = setTimeout(() => {
      connect().then(
        () => !stopped && onNotify(),
        () => !stopped && again(Math.min(delayMs * 2, 30_000)),
      );
    }, delayMs);
    retry.unref();
  };
  return {
    ready: connect(),
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}

/** Embedded Postgres: `dataDir` persists, undefined keeps everything in memory (tests). */
export async function openPgliteDb(dataDir?: string): Promise<Db> {
  // pg_trgm indexes customer names for the console's search (migration 16).
  const lite = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm } });
  type Target = Pick<PGlite, 'query' | 'exec'>;
  const wrap = (target: Target): Queryable => ({
    query: async <R extends object>(sql: string, params?: unknown[]) => (await target.query<R>(sql, params)).rows,
    exec: async (sql: string) => void (await target.exec(sql)),
  });
  const root = wrap(lite);
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    transaction: (fn) => lite.transaction((tx) => fn(wrap(tx))),
    async listen(channel, onNotify) {
      const unlisten = await lite.listen(channel, () => onNotify());
      return async () => unlisten();
    },
    close: () => lite.close(),
  };
}
