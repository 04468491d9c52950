import type { GatewayCore } from '../gateway.js';
import type { SyncStatus } from '../sync/sync-status.js';

/** The parts of the composed gateway the technician API uses. */
export type TechnicianGateway = Pick<
  GatewayCore,
  'store' | 'events' | 'kioskId' | 'settings' | 'setDispenserConfig' | 'sendCommand' | 'dispenseFlow'
>;

export interface SyncSource {
  status(): SyncStatus;
  /** Pushes waiting ledger events now rather than at the next round. */
  nudge?(): void;
}
