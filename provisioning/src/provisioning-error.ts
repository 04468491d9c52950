import { TusafisheError } from '@tusafishe/protocol';

export type ProvisioningErrorCode =
  /** Bad arguments or environment: the command did nothing (exit code 2). */
  | 'USAGE'
  | 'KIOSK_EXISTS'
  | 'UNKNOWN_KIOSK'
  | 'DISPENSER_EXISTS'
  | 'UNKNOWN_DISPENSER'
  | 'TECHNICIAN_REFUSED'
  | 'OPERATOR_REFUSED'
  | 'APPWRITE_FAILED'
  | 'CERTIFICATE_FAILED'
  /** A firmware key or image that cannot be read, written or signed. */
  | 'FIRMWARE_REFUSED'
  | 'CLOUD_UNREACHABLE'
  | 'CLOUD_REFUSED';

export class ProvisioningError extends TusafisheError<ProvisioningErrorCode> {}

/** Exit codes: 0 done, 1 refused or failed (nothing half-done), 2 bad usage. */
export function exitCodeOf(error: ProvisioningError): 1 | 2 {
  return error.code === 'USAGE' ? 2 : 1;
}
