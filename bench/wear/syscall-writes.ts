import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';

/** Where a write went: the database file (WAL checkpoints), its WAL, stdout/stderr (logs), or anything else. */
type WriteTarget = 'database' | 'wal' | 'logs' | 'other';

export type WriteBytes = Record<WriteTarget, number>;

const CALL = /^(\d+)\s+(?:\d+\.\d+\s+)?(write|pwrite64|writev|pwritev|pwritev2)\((\d+)<([^>]*)>/;
const RESULT = /=\s+(\d+)$/;
const RESUMED = /^(\d+)\s+(?:\d+\.\d+\s+)?<\.\.\. (write|pwrite64|writev|pwritev|pwritev2) resumed>/;

function target(fd: number, path: string, database: string): WriteTarget {
  if (fd === 1 || fd === 2 || path.startsWith('pipe:')) return 'logs';
  const name = basename(path);
  if (name === `${database}-wal`) return 'wal';
  if (name === database) return 'database';
  return 'other';
}

/**
 * Sums the bytes of an `strace -f -y -e trace=write,pwrite64,writev,pwritev,pwritev2` log by where
 * they went, counting only lines stamped at or after `since` (strace `-ttt`). Calls split by
 * another thread (`<unfinished ...>` … `<... resumed>`) are joined by thread id.
 */
export async function sumWrites(traceFile: string, database: string, since = 0, until = Infinity): Promise<WriteBytes> {
  const totals: WriteBytes = { database: 0, wal: 0, logs: 0, other: 0 };
  const unfinished = new Map<string, { where: WriteTarget; counted: boolean }>();
  const lines = createInterface({ input: createReadStream(traceFile), crlfDelay: Infinity });
  for await (const line of lines) {
    const stamp = Number(/^\d+\s+(\d+\.\d+)/.exec(line)?.[1] ?? 0) * 1000;
    const counted = stamp >= since && stamp < until;
    const call = CALL.exec(line);
    if (call) {
      const where = target(Number(call[3]), call[4]!, database);
      if (line.endsWith('<unfinished ...>')) unfinished.set(call[1]!, { where, counted });
      else if (counted) totals[where] += Number(RESULT.exec(line)?.[1] ?? 0);
      continue;
    }
    const resumed = RESUMED.exec(line);
    if (resumed) {
      const start = unfinished.get(resumed[1]!);
      unfinished.delete(resumed[1]!);
      if (start?.counted) totals[start.where] += Number(RESULT.exec(line)?.[1] ?? 0);
    }
  }
  return totals;
}
