import { TusafisheError } from '@tusafishe/protocol';

/** Stable codes for what the kiosk hardware layer refuses or fails at. */
export type HardwareErrorCode =
  | 'INVALID_HARDWARE_CONFIG'
  | 'MODEM_TIMEOUT'
  | 'MODEM_ERROR'
  | 'MODEM_CLOSED'
  | 'MODEM_BAD_RESPONSE'
  | 'PTY_UNAVAILABLE'
  | 'GPIO_CHIP_NOT_FOUND';

export class HardwareError extends TusafisheError<HardwareErrorCode> {
  constructor(code: HardwareErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'HardwareError';
  }
}
