import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { PAGE_SIZE } from './database.js';

/**
 * The replica's tables, and what a refetch leaves behind (`customers_next`, `sync_incoming_spent_3`…):
 * the cloud holds all of it and a restore pulls it again whole. Their schema is copied, not their rows.
 */
const REPLICA_TABLE = /^(customers|customer_phones|sync_incoming|sync_refetch_[a-z]+|replica_size)$/;
const REPLICA_LEFTOVER = /^(customers|customer_phones)_(next|old)$|^sync_incoming_spent_/;
/** Rows copied per turn of the event loop: a scheduled backup runs inside the gateway. */
const ROWS_PER_TURN = 2_000;

interface SchemaEntry {
  type: 'table' | 'index' | 'trigger' | 'view';
  name: string;
  tbl_name: string;
  sql: string;
}

/**
 * Writes to `target` everything of the gateway database `sourceFile` but the customer replica:
 * the ledger, holds, decisions, tokens, dispensers, technicians, readings, settings. A weekly copy
 * of the whole file was most of what a busy kiosk's backups wrote to its SD card (the replica is
 * ~45 MB at 100,000 customers, ~290 MB at a million, and a week of the fleet's changes outweighs
 * pulling it again: bench/RESULTS.md § wear). The copy is marked to refetch the replica at its
 * first start (sync_state as at first boot). Read in one transaction on a connection of its own,
 * so the copy is consistent while the gateway keeps writing; rows are copied a slice a turn.
 */
export async function copyWithoutReplica(sourceFile: string, target: string): Promise<void> {
  const source = new Database(sourceFile, { readonly: true, fileMustExist: true });
  const copy = new Database(target);
  try {
    copy.pragma(`page_size = ${PAGE_SIZE}`);
    copy.pragma('journal_mode = OFF');
    copy.pragma('synchronous = OFF');
    source.exec('BEGIN');
    const schema = source
      .prepare<[], SchemaEntry>(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
      )
      .all()
      .filter((entry) => !REPLICA_LEFTOVER.test(entry.tbl_name));
    const tables = schema.filter((entry) => entry.type === 'table');
    for (const table of tables) copy.exec(table.sql);
    for (const table of tables) if (!REPLICA_TABLE.test(table.name)) await copyRows(source, copy, table.name);
    // Indexes and triggers after the rows: built once, and no trigger fires on a copied row.
    for (const entry of schema) if (entry.type !== 'table') copy.exec(entry.sql);
    copy.exec(`INSERT INTO replica_size (id, customers) VALUES (1, 0);
      UPDATE sync_state SET cursor = NULL, refetching = 1, refetch_boundary = NULL WHERE id = 1;`);
    source.exec('COMMIT');
  } finally {
    source.close();
    copy.close();
  }
}

async function copyRows(source: Database.Database, copy: Database.Database, table: string): Promise<void> {
  const quoted = `"${table.replaceAll('"', '""')}"`;
  const list = source.prepare<[string], { wr: number }>('SELECT wr FROM pragma_table_list WHERE name = ?').get(table);
  const columns = source
    .prepare<[string], string>('SELECT name FROM pragma_table_info(?) ORDER BY cid')
    .pluck()
    .all(table)
    .map((name) => `"${name.replaceAll('"', '""')}"`);
  // A rowid table's rowids are kept (an INTEGER PRIMARY KEY is its rowid, given twice with one value).
  const names = list?.wr === 1 ? columns : ['rowid', ...columns];
  const read = source.prepare(`SELECT ${names.join(', ')} FROM ${quoted}`).raw();
  const write = copy.prepare(`INSERT INTO ${quoted} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`);
  const insert = copy.transaction((rows: unknown[][]) => {
    for (const row of rows) write.run(row);
  });
  let rows: unknown[][] = [];
  for (const row of read.iterate() as IterableIterator<unknown[]>) {
    rows.push(row);
    if (rows.length < ROWS_PER_TURN) continue;
    insert(rows);
    rows = [];
    await nextTurn();
  }
  insert(rows);
}
