import { TusafisheError } from '@tusafishe/protocol';

export type CloudErrorCode =
  | 'INVALID_CONFIG'
  | 'UNKNOWN_ACCOUNT'
  | 'ALREADY_REGISTERED'
  | 'ACCOUNT_EXISTS'
  | 'KIOSK_EXISTS'
  | 'PAYMENT_PROVIDER_UNAVAILABLE'
  | 'PAYMENT_REQUEST_FAILED'
  | 'INVALID_AMOUNT'
  | 'BACKUP_MISMATCH'
  | 'BACKUP_FAILED'
  | 'RESTORE_WOULD_REPLACE'
  // Console analytics and reports (cloud/src/analytics)
  | 'INVALID_RANGE'
  | 'UNKNOWN_KIOSK'
  | 'UNKNOWN_ALERT'
  | 'UNKNOWN_ROLLOUT'
  | 'UNKNOWN_FIRMWARE'
  | 'INVALID_FIRMWARE'
  | 'FIRMWARE_CONFLICT';

export class CloudError extends TusafisheError<CloudErrorCode> {}
