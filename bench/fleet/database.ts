import pg from 'pg';
import { hashSecret } from '@tusafishe/protocol/secret-hash';

/** What the cloud's database offers (its `Queryable`); a pg pool and PGlite both fit. */
interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  exec(sql: string): Promise<void>;
}

/** What .ci/run sets up on a machine with a local PostgreSQL server. */
const LOCAL_SERVER = 'postgres://tusafishe:tusafishe@127.0.0.1:5432/tusafishe_test';
/** Set on every connection the bench's cloud opens, so its PostgreSQL backends can be told apart. */
const APPLICATION_NAME = 'tusafishe_bench_fleet';

/** Customers who dispense: `FB00000001` …; top-ups go to the rest, each to a fresh account. */
export const BENCH_PIN = '1234';
const OPENING_BALANCE_ML = 1_000_000;

export function accountId(index: number): string {
  return `FB${String(index).padStart(8, '0')}`;
}

/** Dispensing customers have Kenyan numbers, top-up customers Ugandan MTN ones (they pay by MTN MoMo). */
export function phoneOf(index: number, topUp: boolean): string {
  return topUp ? `+25677${String(index).padStart(7, '0')}` : `+2547${String(index).padStart(8, '0')}`;
}

/** DATABASE_URL, else TEST_DATABASE_URL, else the local server .ci/run starts (if it answers). */
export async function resolveDatabaseUrl(): Promise<string> {
  const url = process.env['DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'] ?? LOCAL_SERVER;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.end();
  } catch (error) {
    throw new Error(
      `no PostgreSQL server at ${url.replace(/:[^:@/]+@/, ':***@')} (${(error as Error).message}); ` +
        'set DATABASE_URL, or start the local server as .ci/run does',
    );
  }
  return url;
}

/** The cloud's connection string: the bench's schema's connections carry APPLICATION_NAME. */
export function tagged(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}application_name=${APPLICATION_NAME}`;
}

/**
 * `dispensing` customers with an opening balance (an adjustment in the ledger, so balances stay
 * the sum of their events) and `topUps` more with none, in bulk: INSERT … SELECT generate_series,
 * 100,000 rows a statement. Four real PIN hashes are shared (a scrypt hash each would take minutes).
 */
export async function seedCustomers(
  db: Queryable,
  dispensing: number,
  topUps: number,
  progress: (line: string) => void,
): Promise<void> {
  const hashes = await Promise.all(['1', '2', '3', '4'].map(() => hashSecret(BENCH_PIN)));
  const chunk = 100_000;
  const total = dispensing + topUps;
  const started = Date.now();
  for (let from = 1; from <= total; from += chunk) {
    const to = Math.min(total, from + chunk - 1);
    await db.query(
      `INSERT INTO customers (account_id, phone, name, pin_hash, status, balance_ml, token_key)
       SELECT 'FB' || lpad(g::text, 8, '0'),
              CASE WHEN g > $3 THEN '+25677' || lpad(g::text, 7, '0') ELSE '+2547' || lpad(g::text, 8, '0') END,
              'Fleet customer ' || g, ($4::text[])[1 + g % 4], 'active',
              CASE WHEN g > $3 THEN 0 ELSE $5::bigint END,
              -- A keypad-token key, as every customer has from their creation (32 random bytes, base64url).
              translate(rtrim(encode(decode(replace(gen_random_uuid()::text, '-', '')
                || replace(gen_random_uuid()::text, '-', ''), 'hex'), 'base64'), '='), '+/', '-_')
       FROM generate_series($1::int, $2::int) AS g`,
      [from, to, dispensing, hashes, OPENING_BALANCE_ML],
    );
    const last = Math.min(to, dispensing);
    if (from <= last)
      await db.query(
        `INSERT INTO ledger_events (event_id, type, account_id, amount_ml, occurred_at, details)
         SELECT gen_random_uuid(), 'adjustment', 'FB' || lpad(g::text, 8, '0'), $3::int, $4::bigint,
                '{"reason":"bench opening balance","operator":"bench"}'::jsonb
         FROM generate_series($1::int, $2::int) AS g`,
        [from, last, OPENING_BALANCE_ML, Date.now()],
      );
    progress(`seeded ${to.toLocaleString('en')} customers (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  await db.exec('ANALYZE');
}

/** A pg pool on the bench's schema, shaped as the cloud's `Queryable` (for createKiosk). */
export class BenchDatabase {
  readonly pool: pg.Pool;

  constructor(
    url: string,
    readonly schema: string,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 4, options: `-c search_path=${schema}` });
    this.pool.on('error', () => undefined);
  }

  async query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  seedCustomers(dispensing: number, topUps: number, progress: (line: string) => void): Promise<void> {
    return seedCustomers(this, dispensing, topUps, progress);
  }

  /**
   * Each top-up customer (the Ugandan numbers) as served lately at one of `kioskIds`, in turn
   * (`customers.followers`, as that kiosk's push of their dispense would have left it): the kiosk
   * that must be sent their top-up when kiosks follow their own customers.
   */
  async topUpAccountsServedAt(kioskIds: readonly string[]): Promise<void> {
    // Without new versions: that push was long ago, and every kiosk's replica holds these rows.
    // (Versioned, 100,000 changes at a million customers kept the gateways catching up into the window.)
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE customers DISABLE TRIGGER customers_version');
      await client.query(
        `UPDATE customers SET followers = jsonb_build_object(
           ($1::text[])[1 + substr(account_id, 3)::int % $2], floor(extract(epoch FROM now()) / 86400)::int)
         WHERE phone LIKE '+25677%'`,
        [kioskIds, kioskIds.length],
      );
      await client.query('ALTER TABLE customers ENABLE TRIGGER customers_version');
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  async lastVersion(): Promise<number> {
    const [row] = await this.query<{ version: number | null }>('SELECT max(version)::float8 AS version FROM customers');
    return Number(row?.version ?? 0);
  }

  /** Tables and indexes of the bench's schema, MB. */
  async sizeMb(): Promise<number> {
    const [row] = await this.query<{ bytes: number }>(
      `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
      [this.schema],
    );
    return (row?.bytes ?? 0) / 2 ** 20;
  }

  /** Dispense events the cloud received since `since` (epoch ms). */
  async dispensesSince(since: number): Promise<number> {
    const [row] = await this.query<{ n: number }>(
      `SELECT count(*)::float8 AS n FROM ledger_events WHERE type = 'dispense' AND received_at >= to_timestamp($1 / 1000.0)`,
      [since],
    );
    return row?.n ?? 0;
  }

  /** PIDs of the PostgreSQL backends serving the bench's cloud. */
  async cloudBackendPids(): Promise<number[]> {
    const rows = await this.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
      APPLICATION_NAME,
    ]);
    return rows.map((row) => row.pid);
  }

  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
