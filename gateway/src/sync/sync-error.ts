import { TusafisheError } from '@tusafishe/protocol';

/**
 * CLOUD_UNREACHABLE: no answer (refused, reset, timeout) — retry with backoff.
 * CLOUD_REFUSED: the cloud answered with an error status (bad credentials, 5xx).
 * CLOUD_BAD_RESPONSE: an answer that does not match the kiosk API contract.
 */
export type SyncErrorCode = 'CLOUD_UNREACHABLE' | 'CLOUD_REFUSED' | 'CLOUD_BAD_RESPONSE';

export class SyncError extends TusafisheError<SyncErrorCode> {
  constructor(code: SyncErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'SyncError';
  }
}
