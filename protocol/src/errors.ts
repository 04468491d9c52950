/**
 * Errors with a stable machine-readable code. Each part declares its own codes;
 * callers branch on `code`, never on message text.
 */
export class TusafisheError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: C, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'TusafisheError';
    this.code = code;
    this.details = details;
  }
}

export type ProtocolErrorCode = 'INVALID_PHONE' | 'INVALID_MESSAGE' | 'PAYLOAD_TOO_LARGE' | 'INVALID_SECRET_HASH';

export class ProtocolError extends TusafisheError<ProtocolErrorCode> {}
