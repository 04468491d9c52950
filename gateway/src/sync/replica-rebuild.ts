import { setImmediate as nextTurn } from 'node:timers/promises';
import { REPLICA_COLUMNS } from '../store/customers.js';
import type { Db } from '../store/database.js';
import { commitWithoutSync } from '../store/group-commit.js';

/**
 * Builds the replica a refetch staged (`sync_incoming` rows 1…boundary) into `customers_next` and
 * `customer_phones_next` in short slices, each its own transaction, the event loop given back between
 * them: dispenses, MQTT and the UI are served from the old replica meanwhile (issue 14). Each b-tree is
 * filled in its own key order, so a slice appends instead of rewriting index pages all over the file:
 * an external merge sort — sorted runs of staged keys (`sync_runs`), merged here — orders the rows by
 * account (the newest record of each kept), then the kept rows by phone (the newest holder kept).
 * Progress lives in memory: a gateway stopped mid-build clears what it built and builds again.
 */

/** Work per slice before the event loop is given back. */
const SLICE_MS = 10;
/** Staged keys sorted into one run (a few ms of SQLite's sorter). */
const RUN_ROWS = 2500;
/** Keys read from each run at a time by the merge. */
const MERGE_BATCH = 100;
/** Runs whose first keys the merge reads per step (a million customers make 400 runs). */
const PRIME_RUNS = 50;
/** Rows written per statement. */
const WRITE_ROWS = 200;
/** Rows deleted per statement when clearing a table. */
const CLEAR_ROWS = 500;

/** Tables the rebuild leaves behind (when stopped, or the old replica after a swap), with their key. */
const LEFTOVERS = [
  ['customers_next', 'account_id'],
  ['customer_phones_next', 'phone'],
  ['customers_old', 'account_id'],
  ['customer_phones_old', 'phone'],
] as const;

/** Staged rows set aside whole (`retireStaged`): `sync_incoming_spent_<n>`. */
const SPENT = 'sync_incoming_spent_';

type Key = [key: string, negVersion: number, ref: number | string];

/** Whether the rebuild may go on (the refetch it builds is still the one in progress). */
export type Still = () => boolean;

/** Runs `step` (a bounded unit of work; true once done) in transactions of about SLICE_MS, yielding between. */
async function sliced(db: Db, signal: AbortSignal, still: Still, step: () => boolean): Promise<boolean> {
  for (;;) {
    if (signal.aborted || !still()) return false;
    const started = performance.now();
    let done = false;
    commitWithoutSync(db, () => {
      do done = step();
      while (!done && performance.now() - started < SLICE_MS);
    });
    if (done) return true;
    await nextTurn();
  }
}

/** A k-way merge of sorted runs in `sync_runs`, read MERGE_BATCH keys per run at a time. */
class RunMerge {
  private readonly first;
  private readonly after;
  private readonly heap: { run: number; keys: Key[]; at: number }[] = [];
  private primed: number;

  constructor(
    db: Db,
    fromRun: number,
    private readonly toRun: number,
  ) {
    const columns = 'SELECT key, neg_version, ref FROM sync_runs WHERE run = ?';
    const order = `ORDER BY key, neg_version, ref LIMIT ${MERGE_BATCH}`;
    this.first = db.prepare<[number], Key>(`${columns} ${order}`).raw();
    this.after = db
      .prepare<[number, string, number, number | string], Key>(
        `${columns} AND (key, neg_version, ref) > (?, ?, ?) ${order}`,
      )
      .raw();
    this.primed = fromRun;
  }

  /** Reads the first keys of PRIME_RUNS more runs; true once every run has them (all at once: tens of ms at a million). */
  prime(): boolean {
    const end = Math.min(this.toRun, this.primed + PRIME_RUNS);
    for (; this.primed < end; this.primed++)
      this.refill({ run: this.primed, keys: [], at: 0 }, this.first.all(this.primed));
    return this.primed >= this.toRun;
  }

  private refill(head: { run: number; keys: Key[]; at: number }, keys: Key[]): void {
    if (keys.length === 0) return;
    head.keys = keys;
    head.at = 0;
    this.push(head);
  }

  /** The next key in order (once primed), or undefined once every run is exhausted. */
  next(): Key | undefined {
    const head = this.heap[0];
    if (!head) return undefined;
    const key = head.keys[head.at++]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    if (head.at < head.keys.length) this.push(head);
    else if (head.keys.length === MERGE_BATCH) this.refill(head, this.after.all(head.run, ...key));
    return key;
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return compare(a.keys[a.at]!, b.keys[b.at]!) < 0;
  }

  private push(head: { run: number; keys: Key[]; at: number }): void {
    this.heap.push(head);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      let least = i;
      if (left < this.heap.length && this.less(left, least)) least = left;
      if (left + 1 < this.heap.length && this.less(left + 1, least)) least = left + 1;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  private swap(i: number, j: number): void {
    [this.heap[i], this.heap[j]] = [this.heap[j]!, this.heap[i]!];
  }
}

/** SQLite's order for the runs' keys (TEXT by bytes: all keys here are ASCII). */
function compare(a: Key, b: Key): number {
  for (let i = 0; i < 3; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}

function tableExists(db: Db, name: string): boolean {
  return (
    db
      .prepare<[string], number>("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?")
      .pluck()
      .get(name) === 1
  );
}

/**
 * Sets the staged rows aside whole, in the caller's transaction: the table takes another name (a
 * schema change only) and an empty one takes its place. A DELETE of a million staged rows held the
 * event loop for seconds (a new `must_refetch` mid-refetch); `clearLeftovers` empties them in slices.
 */
export function retireStaged(db: Db): void {
  const spent = db
    .prepare<[], string>(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB '${SPENT}*'`)
    .pluck()
    .all();
  const name = `${SPENT}${Math.max(0, ...spent.map((n) => Number(n.slice(SPENT.length)))) + 1}`;
  db.exec(`ALTER TABLE sync_incoming RENAME TO ${name}`);
  createLike(db, name, 'sync_incoming');
}

/**
 * Empties the rebuild's leftovers slice by slice in key order and drops them (a DROP of a million rows
 * walks every page at once: over a second); staged rows once no refetch is in progress (after its swap
 * they are spent) are set aside and emptied the same way.
 */
export async function clearLeftovers(db: Db, signal: AbortSignal, refetching: () => boolean): Promise<boolean> {
  const clear = (table: string, key: string): (() => boolean) => {
    const remove = db.prepare(
      `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} ORDER BY ${key} LIMIT ${CLEAR_ROWS})`,
    );
    return () => remove.run().changes < CLEAR_ROWS;
  };
  const removeRun = db.prepare('DELETE FROM sync_runs WHERE run = (SELECT min(run) FROM sync_runs)');
  if (
    !(await sliced(
      db,
      signal,
      () => true,
      () => removeRun.run().changes === 0,
    ))
  )
    return false;
  if (!refetching() && db.prepare('SELECT EXISTS (SELECT 1 FROM sync_incoming)').pluck().get() === 1)
    commitWithoutSync(db, () => retireStaged(db));
  const spent = db
    .prepare<[], string>(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB '${SPENT}*' ORDER BY name`)
    .pluck()
    .all();
  for (const [table, key] of [...LEFTOVERS, ...spent.map((name) => [name, 'rowid'] as const)]) {
    if (!tableExists(db, table)) continue;
    if (!(await sliced(db, signal, () => true, clear(table, key)))) return false;
    db.exec(`DROP TABLE ${table}`);
  }
  return true;
}

/** The DDL of `table` under another name: the new replica has exactly the live one's schema. */
function createLike(db: Db, table: string, name: string): void {
  const sql = db
    .prepare<[string], string>("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?")
    .pluck()
    .get(table)!;
  db.exec(sql.replace(new RegExp(`^CREATE TABLE\\s+"?${table}"?`), `CREATE TABLE ${name}`));
}

/**
 * Builds `customers_next` and `customer_phones_next` from staged rows 1…boundary. Resolves the number
 * of customers built once both are complete (the caller swaps them in), false if stopped or `still`
 * turned false.
 */
export async function buildReplica(
  db: Db,
  boundary: number,
  signal: AbortSignal,
  still: Still,
): Promise<number | false> {
  createLike(db, 'customers', 'customers_next');
  createLike(db, 'customer_phones', 'customer_phones_next');
  const columns = REPLICA_COLUMNS.join(', ');

  // 1. Runs of staged (account, version) keys, each sorted.
  const accountRuns = Math.ceil(boundary / RUN_ROWS);
  const accountRun = db.prepare<[number, number, number]>(`INSERT INTO sync_runs (run, key, neg_version, ref)
    SELECT ?, account_id, -version, rowid FROM sync_incoming WHERE rowid > ? AND rowid <= ? ORDER BY 2, 3, 4`);
  let run = 0;
  const runsMade = await sliced(db, signal, still, () => {
    if (run < accountRuns) accountRun.run(run, run * RUN_ROWS, Math.min(boundary, (run + 1) * RUN_ROWS));
    return ++run >= accountRuns;
  });
  if (!runsMade) return false;

  // 2. Merged by account: each account's newest record, appended to the new replica in key order.
  const copyRows = db.prepare<[string]>(`INSERT INTO customers_next (${columns})
    SELECT ${REPLICA_COLUMNS.map((c) => `s.${c}`).join(', ')} FROM json_each(?) j JOIN sync_incoming s ON s.rowid = j.value ORDER BY j.key`);
  let built = 0;
  if (
    !(await mergeInto(db, signal, still, new RunMerge(db, 0, accountRuns), (rows) => {
      built += copyRows.run(JSON.stringify(rows.map((k) => k[2]))).changes;
    }))
  )
    return false;

  // 3. Runs of the kept rows' (phone, version), read back in account order.
  const phoneRun = db.prepare<[number, string, number]>(`INSERT INTO sync_runs (run, key, neg_version, ref)
    SELECT ?, phone, -version, account_id FROM
      (SELECT phone, version, account_id FROM customers_next WHERE account_id > ? ORDER BY account_id LIMIT ?)
    ORDER BY 2, 3, 4`);
  const runEnd = db
    .prepare<[string, number], string | null>(
      'SELECT max(account_id) FROM (SELECT account_id FROM customers_next WHERE account_id > ? ORDER BY account_id LIMIT ?)',
    )
    .pluck();
  let after = '';
  let phoneRuns = accountRuns;
  const phonesMade = await sliced(db, signal, still, () => {
    const end = runEnd.get(after, RUN_ROWS) ?? null;
    if (end === null) return true;
    phoneRun.run(phoneRuns++, after, RUN_ROWS);
    after = end;
    return false;
  });
  if (!phonesMade) return false;

  // 4. Merged by phone: the newest holder of each number keeps it; an older holder (the number was
  //    re-assigned while the feed was read) leaves the new replica.
  const copyPhones = db.prepare<[string]>(`INSERT INTO customer_phones_next (phone, account_id)
    SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?) j ORDER BY j.key`);
  const dropHolder = db.prepare<[string]>('DELETE FROM customers_next WHERE account_id = ?');
  const phonesMerged = await mergeInto(
    db,
    signal,
    still,
    new RunMerge(db, accountRuns, phoneRuns),
    (rows) => copyPhones.run(JSON.stringify(rows.map((k) => [k[0], k[2]]))),
    (loser) => {
      built -= dropHolder.run(String(loser[2])).changes;
    },
  );
  return phonesMerged && built;
}

/** Feeds the first key of each distinct `key` to `write` (WRITE_ROWS at a time), the others to `dropped`. */
function mergeInto(
  db: Db,
  signal: AbortSignal,
  still: Still,
  merge: RunMerge,
  write: (rows: Key[]) => void,
  dropped: (key: Key) => void = () => undefined,
): Promise<boolean> {
  let last: string | undefined;
  return sliced(db, signal, still, () => {
    if (!merge.prime()) return false;
    const rows: Key[] = [];
    while (rows.length < WRITE_ROWS) {
      const key = merge.next();
      if (key === undefined) break;
      if (key[0] === last) dropped(key);
      else rows.push(key);
      last = key[0];
    }
    if (rows.length > 0) write(rows);
    return rows.length < WRITE_ROWS;
  });
}
