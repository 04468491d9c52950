import type { CommandResult, DispenserCommand } from '@tusafishe/protocol';
import type { SyncStatus } from '../sync/sync-status.js';
import type { HardwareView } from './api-schemas.js';

/** Dispenser actions that go out over MQTT, provided by the gateway core. */
export interface DispenserControl {
  /** Saves the calibration and republishes the dispenser's retained DispenserConfig. */
  setPulsesPerLitre(dispenserId: string, pulsesPerLitre: number): void | Promise<void>;
  /** Publishes a technician command and resolves with the dispenser's CommandResult. */
  sendCommand?(dispenserId: string, command: DispenserCommand): Promise<CommandResult>;
}

export interface HardwareSource {
  snapshot(): HardwareView | Promise<HardwareView>;
}

export interface SyncSource {
  status(): SyncStatus;
}
