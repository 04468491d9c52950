import { TusafisheError } from '@tusafishe/protocol';

export type TechnicianApiErrorCode =
  | 'INVALID_CREDENTIALS'
  | 'TECHNICIAN_LOCKED'
  | 'NOT_SIGNED_IN'
  | 'CROSS_ORIGIN'
  | 'JSON_REQUIRED'
  | 'USERNAME_TAKEN'
  | 'WEAK_PASSWORD'
  | 'UNKNOWN_DISPENSER'
  | 'UNKNOWN_CUSTOMER'
  | 'UNKNOWN_DISPENSE'
  | 'CALIBRATION_OUT_OF_RANGE'
  | 'DISPENSER_SILENT'
  | 'INVALID_PHONE'
  | 'INVALID_RANGE'
  | 'INVALID_FIRMWARE'
  | 'UNKNOWN_FIRMWARE'
  | 'FIRMWARE_CONFLICT'
  | 'FIRMWARE_CURRENT'
  | 'DISPENSER_BUSY'
  | 'DISPENSER_OFFLINE';

/** Errors of the technician API; `status` is the HTTP status the API answers with. */
export class TechnicianApiError extends TusafisheError<TechnicianApiErrorCode> {
  readonly status: number;

  constructor(code: TechnicianApiErrorCode, status: number, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.status = status;
  }
}
