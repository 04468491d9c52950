import { TusafisheError } from '@tusafishe/protocol';

/** Stable codes for everything the gateway refuses or fails at. */
export type GatewayErrorCode =
  | 'INVALID_CONFIG'
  | 'MIGRATION_FAILED'
  | 'UNKNOWN_DISPENSER'
  | 'UNKNOWN_SESSION'
  | 'SESSION_MISMATCH'
  | 'INVALID_REQUEST'
  | 'WRONG_KIOSK'
  | 'MQTT_PACKET_TOO_LARGE'
  | 'MQTT_PACKET_MALFORMED'
  | 'BROKER_BUSY'
  | 'BACKUP_INVALID'
  | 'DATABASE_IN_USE'
  | 'STORAGE_FAILED';

export class GatewayError extends TusafisheError<GatewayErrorCode> {
  constructor(code: GatewayErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'GatewayError';
  }
}
