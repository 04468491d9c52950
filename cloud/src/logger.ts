import type { LoggerOptions } from 'pino';

/** Fields that may carry a PIN, secret, credential or keypad-token key: never written to logs. */
const REDACT_PATHS = [
  'pin',
  'secret',
  'password',
  'token',
  '*.pin',
  '*.secret',
  '*.password',
  '*.token',
  'token_key',
  '*.token_key',
  'customers[*].token_key',
  '*.customers[*].token_key',
  'req.headers.authorization',
  'req.headers["x-webhook-secret"]',
  'req.query.token',
  'body.text',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // The request URL can hold the webhook secret (`?token=`): log the path only.
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split('?')[0],
      }),
    },
  };
}
