import { pino, type Level, type Logger, type LoggerOptions } from 'pino';
import type { LogRing } from './log-ring.js';

/** PINs, passwords and secrets never reach a log line, wherever they appear. */
export const REDACT_PATHS = [
  'pin',
  'password',
  'secret',
  'authorization',
  '*.pin',
  '*.password',
  '*.secret',
  '*.authorization',
  '*.*.pin',
  '*.*.password',
  '*.*.secret',
  '*.*.authorization',
  'req.headers.authorization',
];

/**
 * The gateway's logger: JSON lines on stdout at `options.level`. With a `ring`, the same lines
 * (redacted) also go to the in-memory ring for the technicians' Logs page, at info and above
 * whatever stdout's level; `level: 'silent'` then means nothing on stdout.
 */
export function createLogger(options: LoggerOptions = {}, ring?: LogRing): Logger {
  const settings: LoggerOptions = {
    name: 'gateway',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...options,
  };
  if (!ring) return pino(settings);
  const stdoutLevel = options.level ?? 'info';
  const streams = [
    ...(stdoutLevel === 'silent' ? [] : [{ level: stdoutLevel as Level, stream: pino.destination(1) }]),
    { level: ring.level, stream: ring },
  ];
  const lowest = streams.reduce((a, b) => (pino.levels.values[a.level]! <= pino.levels.values[b.level]! ? a : b)).level;
  return pino({ ...settings, level: lowest }, pino.multistream(streams));
}

export type { Logger };
