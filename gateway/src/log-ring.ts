import { pino, type DestinationStream } from 'pino';

export const LOG_RING_LEVELS = ['info', 'warn', 'error', 'fatal'] as const;
type LogRingLevel = (typeof LOG_RING_LEVELS)[number];

/** One log line as the technicians' UI shows it, already redacted by pino. */
export interface LogEntry {
  /** Order of arrival, so the UI can tell new entries from ones it has. */
  seq: number;
  time: number;
  level: LogRingLevel;
  /** The child logger's `module` (`sync`, `hardware`, `http`), or `core` for the gateway core. */
  module: string;
  msg: string;
  /** Every other field of the line (ids, codes, `err`). */
  fields: Record<string, unknown>;
}

export interface LogQuery {
  /** This level and above. */
  level: LogRingLevel;
  module?: string | undefined;
  limit: number;
}

/** What the technician API reads from the ring. */
export interface LogSource {
  readonly capacity: number;
  recent(query: LogQuery): LogEntry[];
  modules(): string[];
}

export const DEFAULT_LOG_RING_CAPACITY = 2000;
/** A longer line keeps its message but not its fields, so the ring's memory stays bounded. */
const MAX_LINE_CHARS = 4096;
const CORE_MODULE = 'core';
/** Fields pino adds to every line, already shown by the entry itself or useless to a technician. */
const ENVELOPE = new Set(['level', 'time', 'msg', 'module', 'pid', 'hostname', 'name']);
/** fastify's per-request access lines: the UI's own requests would push out what matters. */
const ACCESS_LOG_MESSAGES = new Set(['incoming request', 'request completed']);

/**
 * The last `capacity` log entries at info and above, kept in memory for the technicians' Logs page.
 * A pino destination: give it to `pino.multistream` beside stdout, so it receives each line exactly
 * as written to stdout — after redaction — and parses it synchronously (an entry is readable as soon
 * as the log call returns).
 */
export class LogRing implements DestinationStream, LogSource {
  /** The level `pino.multistream` sends this stream. */
  readonly level = 'info';
  private readonly entries: LogEntry[] = [];
  private next = 0;
  private seq = 0;

  constructor(readonly capacity: number = DEFAULT_LOG_RING_CAPACITY) {}

  write(line: string): void {
    const entry = this.parse(line);
    if (!entry) return;
    this.entries[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  recent({ level, module, limit }: LogQuery): LogEntry[] {
    const minimum = pino.levels.values[level]!;
    const found: LogEntry[] = [];
    for (let i = 1; i <= this.entries.length && found.length < limit; i++) {
      const entry = this.entries[(this.next - i + this.capacity) % this.capacity]!;
      if (pino.levels.values[entry.level]! >= minimum && (module === undefined || entry.module === module))
        found.push(entry);
    }
    return found;
  }

  modules(): string[] {
    return [...new Set(this.entries.map((entry) => entry.module))].sort();
  }

  private parse(line: string): LogEntry | null {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return null;
    }
    const level = pino.levels.labels[Number(parsed.level)];
    if (!isRingLevel(level)) return null;
    const msg = typeof parsed.msg === 'string' ? parsed.msg : '';
    if (level === 'info' && ACCESS_LOG_MESSAGES.has(msg)) return null;
    const fields =
      line.length > MAX_LINE_CHARS
        ? { truncated: `${line.length} characters` }
        : Object.fromEntries(Object.entries(parsed).filter(([key]) => !ENVELOPE.has(key)));
    return {
      seq: ++this.seq,
      time: typeof parsed.time === 'number' ? parsed.time : Date.now(),
      level,
      module: typeof parsed.module === 'string' ? parsed.module : CORE_MODULE,
      msg: msg.slice(0, MAX_LINE_CHARS),
      fields,
    };
  }
}

function isRingLevel(level: string | undefined): level is LogRingLevel {
  return (LOG_RING_LEVELS as readonly (string | undefined)[]).includes(level);
}
