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
  | 'FIRMWARE_CONFLICT'
  // Operations console (cloud/src/console)
  | 'NOT_SIGNED_IN'
  | 'INVALID_CREDENTIALS'
  | 'OPERATOR_LOCKED'
  | 'ROLE_FORBIDDEN'
  | 'CROSS_ORIGIN'
  | 'JSON_REQUIRED'
  | 'WEAK_PASSWORD'
  | 'USERNAME_TAKEN'
  | 'UNKNOWN_OPERATOR'
  | 'WRONG_PASSWORD'
  | 'OWN_ACCOUNT'
  | 'UNKNOWN_EVENT'
  | 'ALREADY_REVERSED'
  | 'CORRECTION_OVER_CAP'
  | 'WRONG_CODE'
  | 'INVALID_CSV';

export class CloudError extends TusafisheError<CloudErrorCode> {}
