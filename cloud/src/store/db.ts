import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';
import { NOTIFY_AFTER_COMMIT_SETTING } from './migrations.js';

/** The one database surface the cloud uses; implemented by a pg Pool and by embedded PGlite. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface TransactionOptions {
  /**
   * Wake these channels' listeners once the transaction has committed, instead of by its
   * triggers' NOTIFY at commit (migration 22). Postgres holds one database-wide lock from a
   * notifying transaction's commit until its WAL is flushed, so busy writers that notify commit
   * one at a time: at 600 kiosks, pushes queued on it. The notifications are sent coalesced with
   * other transactions', and not flushed (a lost one is caught by the listeners' safety poll).
   */
  notifyAfterCommit?: readonly string[];
  /**
   * A statement without parameters (values built in with `sqlTextArray`) sent with BEGIN, in one
   * round trip to the server instead of two; its rows are `fn`'s second argument. A push takes its
   * customers' locks so: each round trip waits for the cloud's event loop, and a push made four.
   */
  opening?: string;
}

/** Rows of a transaction's `opening` statement. */
type OpenedRows = Record<string, unknown>[];

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: Queryable, opened: OpenedRows) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Calls `onNotify` for every NOTIFY on `channel` (and once after a lost listening connection is
   * back); resolves to an unsubscribe function. On the server every channel shares one connection.
   */
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
  const notifications = new Notifications(options.connectionString);
  const afterCommit = new AfterCommitNotifier((channels) =>
    pool.query(`BEGIN; SET LOCAL synchronous_commit TO off; ${notifySql(channels)}; COMMIT`),
  );

  return {
    kind: 'postgres',
    async query(sql, params) {
      return (await pool.query(statement(sql, params))).rows;
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn, transactionOptions) {
      const client = await pool.connect();
      const channels = transactionOptions?.notifyAfterCommit;
      try {
        const begin = [
          'BEGIN',
          ...(channels ? [DEFER_NOTIFY_SQL] : []),
          ...(transactionOptions?.opening ? [transactionOptions.opening] : []),
        ];
        // Several statements in one query answer a result each (pg's types say one).
        const begun = (await client.query(begin.join('; '))) as unknown as pg.QueryResult | pg.QueryResult[];
        const opened = transactionOptions?.opening ? (Array.isArray(begun) ? begun.at(-1)! : begun).rows : [];
        const result = await fn(
          {
            query: async (sql, params) => (await client.query(statement(sql, params))).rows,
            exec: async (sql) => void (await client.query(sql)),
          },
          opened,
        );
        await client.query('COMMIT');
        if (channels) afterCommit.notify(channels);
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async listen(channel, onNotify) {
      const unsubscribe = await notifications.subscribe(channel, onNotify);
      return async () => unsubscribe();
    },
    async close() {
      await afterCommit.drained();
      await notifications.stop();
      await pool.end();
    },
  };
}

/**
 * Parameterised statements go by name, so each connection parses and plans one once instead of at
 * every call: the kiosk API's few statements run hundreds of times a second at peak (a push's
 * merge is one large statement), and parsing and planning them was a quarter of PostgreSQL's CPU
 * at 600 kiosks (bench/RESULTS.md § fleet). Named by their text; SQL built from varying parts
 * (search filters, lists of placeholders) could make names without end, so past `MAX_NAMED` texts
 * the rest go unnamed, as before. Statements without parameters (migrations, BEGIN) stay unnamed.
 */
const MAX_NAMED = 500;
const statementNames = new Map<string, string>();

function statement(text: string, values: unknown[] | undefined): pg.QueryConfig {
  if (!values || values.length === 0) return { text, values };
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED) {
    name = `tusafishe_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name === undefined ? { text, values } : { name, text, values };
}

/**
 * `values` as a SQL literal of type text[], for a statement that cannot take parameters (a
 * transaction's `opening`): each element double-quoted with `\\` and `"` escaped (array syntax),
 * the whole single-quoted with `'` doubled (standard_conforming_strings, on since PostgreSQL 9.1).
 */
export function sqlTextArray(values: readonly string[]): string {
  const elements = values.map((value) => `"${value.replace(/[\\"]/g, '\\$&')}"`);
  return `'{${elements.join(',').replaceAll("'", "''")}}'::text[]`;
}

/** Turns off the NOTIFY of the triggers that read it (migration 22) for the rest of the transaction. */
const DEFER_NOTIFY_SQL = `SELECT set_config('${NOTIFY_AFTER_COMMIT_SETTING}', 'on', true)`;

function notifySql(channels: readonly string[]): string {
  for (const channel of channels)
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad notification channel ${channel}`);
  return `SELECT ${channels.map((channel) => `pg_notify('${channel}', '')`).join(', ')}`;
}

/**
 * Sends the channels transactions ask to notify after their commit: one statement at a time,
 * so channels asked for while one is on its way go together in the next.
 */
class AfterCommitNotifier {
  readonly #pending = new Set<string>();
  #sending: Promise<void> | undefined;

  constructor(private readonly send: (channels: readonly string[]) => Promise<unknown>) {}

  notify(channels: readonly string[]): void {
    for (const channel of channels) this.#pending.add(channel);
    this.#sending ??= this.#drain().finally(() => {
      this.#sending = undefined;
    });
  }

  /** Resolves once every channel asked for so far has been sent (or failed to be). */
  async drained(): Promise<void> {
    await this.#sending;
  }

  async #drain(): Promise<void> {
    while (this.#pending.size > 0) {
      const channels = [...this.#pending];
      this.#pending.clear();
      // A failed wake-up (database gone) is not the committed transaction's failure.
      await this.send(channels).catch(() => undefined);
    }
  }
}

type OnNotify = () => void;

/**
 * One connection LISTENs on every channel the cloud subscribes to (the change feed, kiosk
 * credentials, the console's live feed), never a pooled one (it would be handed to others). A
 * lost connection is made again, with backoff, and every subscriber called once it listens again:
 * whatever was notified meanwhile is unknown.
 */
class Notifications {
  readonly #subscribers = new Map<string, Set<OnNotify>>();
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly connectionString: string) {}

  /** Resolves once the connection listens on `channel` (rejects if the first connection fails). */
  async subscribe(channel: string, onNotify: OnNotify): Promise<() => void> {
    const subscribers = this.#subscribers.get(channel) ?? new Set<OnNotify>();
    this.#subscribers.set(channel, subscribers);
    subscribers.add(onNotify);
    const unsubscribe = (): void => {
      subscribers.delete(onNotify);
      // The channel stays listened to: a notification nobody wants costs nothing.
    };
    try {
      // A new connection listens on every channel; LISTEN again on one already up is harmless.
      await (await this.#connection()).query(`LISTEN ${channel}`);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#client?.end().catch(() => undefined);
  }

  #connection(): Promise<pg.Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('error', () => undefined);
    client.on('notification', (message) => {
      for (const onNotify of this.#subscribers.get(message.channel) ?? []) onNotify();
    });
    try {
      await client.connect();
      for (const channel of this.#subscribers.keys()) await client.query(`LISTEN ${channel}`);
      if (this.#stopped) throw new Error('closed');
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#client = client;
    client.once('end', () => {
      this.#client = undefined;
      if (!this.#stopped) this.#again(1000);
    });
    return client;
  }

  #again(delayMs: number): void {
    this.#retry = setTimeout(() => {
      this.#connection().then(
        () => {
          if (this.#stopped) return;
          for (const subscribers of this.#subscribers.values()) for (const onNotify of subscribers) onNotify();
        },
        () => !this.#stopped && this.#again(Math.min(delayMs * 2, 30_000)),
      );
    }, delayMs);
    this.#retry.unref();
  }
}

/** Embedded Postgres: `dataDir` persists, undefined keeps everything in memory (tests); `image` is a `dumpDataDir` tarball to start from. */
export async function openPgliteDb(dataDir?: string, image?: Blob): Promise<Db> {
  // pg_trgm indexes customer names for the console's search (migration 16).
  const lite = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(image ? { loadDataDir: image } : {}),
    extensions: { pg_trgm },
  });
  type Target = Pick<PGlite, 'query' | 'exec'>;
  const wrap = (target: Target): Queryable => ({
    query: async <R extends object>(sql: string, params?: unknown[]) => (await target.query<R>(sql, params)).rows,
    exec: async (sql: string) => void (await target.exec(sql)),
  });
  const root = wrap(lite);
  const afterCommit = new AfterCommitNotifier((channels) => lite.exec(notifySql(channels)));
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    async transaction(fn, options) {
      const channels = options?.notifyAfterCommit;
      const result = await lite.transaction(async (tx) => {
        if (channels) await tx.query(DEFER_NOTIFY_SQL);
        const opened = options?.opening ? (await tx.query<Record<string, unknown>>(options.opening)).rows : [];
        return fn(wrap(tx), opened);
      });
      if (channels) afterCommit.notify(channels);
      return result;
    },
    async listen(channel, onNotify) {
      const unlisten = await lite.listen(channel, () => onNotify());
      return async () => unlisten();
    },
    async close() {
      await afterCommit.drained();
      await lite.close();
    },
  };
}
