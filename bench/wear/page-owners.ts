import Database from 'better-sqlite3';
import type { PageWrites } from './syscall-writes.js';

/** Which table or index each page of the database belongs to (SQLite's dbstat), read-only. */
function pageOwners(dbFile: string): { owners: Map<number, string>; pageSize: number } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare<[], { name: string; pageno: number }>('SELECT name, pageno FROM dbstat').all();
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    return { owners: new Map(rows.map((row) => [row.pageno, row.name])), pageSize };
  } finally {
    db.close();
  }
}

/** The database's page size (a checkpoint writes pages of it at offsets of it). */
export function pageSizeOf(dbFile: string): number {
  return pageOwners(dbFile).pageSize;
}

/** Bytes written per table/index (pages owned by nothing now are free). */
export function bytesByTable(
  dbFile: string,
  pages: PageWrites,
): { wal: Record<string, number>; checkpoint: Record<string, number> } {
  const { owners, pageSize } = pageOwners(dbFile);
  const sum = (writes: Map<number, number>, frame: number): Record<string, number> => {
    const totals: Record<string, number> = {};
    for (const [page, count] of writes) {
      const name = owners.get(page) ?? 'free';
      totals[name] = (totals[name] ?? 0) + count * frame;
    }
    return Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]));
  };
  return { wal: sum(pages.wal, pageSize + 24), checkpoint: sum(pages.checkpoint, pageSize) };
}

/** The card's block a checkpoint dirties for a page (SD cards write in 4 KB pages or more). */
const CARD_BLOCK = 4096;

/**
 * What writing these tables' pages costs the card: their WAL frames, and a card block for each
 * distinct page, which the next checkpoint copies into the file once.
 */
export function cardBytesOf(dbFile: string, pages: PageWrites, tables: readonly string[]): number {
  const { owners, pageSize } = pageOwners(dbFile);
  let bytes = 0;
  for (const [page, frames] of pages.wal) {
    if (!tables.includes(owners.get(page) ?? '')) continue;
    bytes += frames * (pageSize + 24) + Math.max(pageSize, CARD_BLOCK);
  }
  return bytes;
}
