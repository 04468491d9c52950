import { pino, type Logger, type LoggerOptions } from 'pino';

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
  '*.*.authorization',
  'req.headers.authorization',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({ name: 'gateway', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, ...options });
}

export type { Logger };
