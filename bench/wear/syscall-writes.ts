import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';

/** Where a write went: the database file (WAL checkpoints), its WAL, stdout/stderr (logs), or anything else. */
type WriteTarget = 'database' | 'wal' | 'logs' | 'other';

type WriteBytes = Record<WriteTarget, number>;

/** Database pages written, by page number: as WAL frames (commits) and by checkpoints into the file. */
export interface PageWrites {
  wal: Map<number, number>;
  checkpoint: Map<number, number>;
  /** WAL commit frames: one per transaction that wrote anything. */
  commits: number;
}

export interface TracedWrites {
  bytes: WriteBytes;
  pages: PageWrites;
}

const CALL = /^(\d+)\s+(?:\d+\.\d+\s+)?(write|pwrite64|writev|pwritev|pwritev2)\((\d+)<([^>]*)>/;
const RESULT = /=\s+(\d+)$/;
const RESUMED = /^(\d+)\s+(?:\d+\.\d+\s+)?<\.\.\. (write|pwrite64|writev|pwritev|pwritev2) resumed>/;
/** `pwrite64(fd<path>, "<data>"[...], size, offset)`: the first bytes as strace shows them, the size, the offset. */
const PWRITE = /pwrite64\(\d+<[^>]*>, "((?:[^"\\]|\\.)*)"(?:\.\.\.)?, (\d+), (\d+)\)/;
/** SQLite writes each WAL frame as a 24-byte header (page number, database size if a commit) then the page. */
const WAL_FRAME_HEADER = 24;

function target(fd: number, path: string, database: string): WriteTarget {
  if (fd === 1 || fd === 2 || path.startsWith('pipe:')) return 'logs';
  const name = basename(path);
  if (name === `${database}-wal`) return 'wal';
  if (name === database) return 'database';
  return 'other';
}

/** Decodes the start of a string as strace prints it (`-x`: `\xNN` escapes, C escapes, plain characters). */
function straceBytes(text: string, count: number): number[] {
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, '"': 34, '\\': 92 };
  for (let i = 0; i < text.length && bytes.length < count; i++) {
    if (text[i] !== '\\') bytes.push(text.charCodeAt(i));
    else if (text[i + 1] === 'x') {
      bytes.push(Number.parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (/[0-7]/.test(text[i + 1]!)) {
      const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
      bytes.push(Number.parseInt(octal, 8));
      i += octal.length;
    } else {
      bytes.push(simple[text[i + 1]!] ?? text.charCodeAt(i + 1));
      i += 1;
    }
  }
  return bytes;
}

const uint32 = (b: number[], at: number): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

function countPage(where: WriteTarget, line: string, pageSize: number, pages: PageWrites): void {
  const call = PWRITE.exec(line);
  if (!call) return;
  const size = Number(call[2]);
  if (where === 'wal' && size === WAL_FRAME_HEADER) {
    const header = straceBytes(call[1]!, 8);
    const page = uint32(header, 0);
    pages.wal.set(page, (pages.wal.get(page) ?? 0) + 1);
    if (uint32(header, 4) !== 0) pages.commits += 1;
  } else if (where === 'database' && size === pageSize) {
    const page = Number(call[3]) / pageSize + 1;
    pages.checkpoint.set(page, (pages.checkpoint.get(page) ?? 0) + 1);
  }
}

/**
 * Sums the bytes of an `strace -f -x -y -e trace=write,pwrite64,writev,pwritev,pwritev2` log by
 * where they went, counting only lines stamped at or after `since` (strace `-ttt`), and which
 * database pages were written (WAL frame headers name their page; a checkpoint's offset does).
 * Calls split by another thread (`<unfinished ...>` … `<... resumed>`) are joined by thread id.
 */
export async function sumWrites(
  traceFile: string,
  database: string,
  since = 0,
  until = Infinity,
  pageSize = 4096,
): Promise<TracedWrites> {
  const totals: WriteBytes = { database: 0, wal: 0, logs: 0, other: 0 };
  const pages: PageWrites = { wal: new Map(), checkpoint: new Map(), commits: 0 };
  const unfinished = new Map<string, { where: WriteTarget; counted: boolean; line: string }>();
  const lines = createInterface({ input: createReadStream(traceFile), crlfDelay: Infinity });
  for await (const line of lines) {
    const stamp = Number(/^\d+\s+(\d+\.\d+)/.exec(line)?.[1] ?? 0) * 1000;
    const counted = stamp >= since && stamp < until;
    const call = CALL.exec(line);
    if (call) {
      const where = target(Number(call[3]), call[4]!, database);
      if (line.endsWith('<unfinished ...>')) unfinished.set(call[1]!, { where, counted, line });
      else if (counted) {
        totals[where] += Number(RESULT.exec(line)?.[1] ?? 0);
        countPage(where, line, pageSize, pages);
      }
      continue;
    }
    const resumed = RESUMED.exec(line);
    if (resumed) {
      const start = unfinished.get(resumed[1]!);
      unfinished.delete(resumed[1]!);
      if (start?.counted) {
        totals[start.where] += Number(RESULT.exec(line)?.[1] ?? 0);
        countPage(start.where, start.line.replace(/\s*<unfinished \.\.\.>$/, ')'), pageSize, pages);
      }
    }
  }
  return { bytes: totals, pages };
}
