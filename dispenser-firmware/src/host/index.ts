/**
 * Simulated dispensers on a host (the firmware with virtual hardware), for other parts:
 * `npm start`, the kiosk UI's end-to-end test and the fleet run.
 */
export {
  startKioskDispensers,
  startSimulatedDispenser,
  type KioskDispensersOptions,
  type SimulatedDispenser,
  type SimulatedDispenserOptions,
} from './simulated-dispenser.js';
export { FileStorage } from './file-storage.js';
export { xsFirmwareBundle } from './xs-firmware.js';
export { XsWorker, type XsMemory } from './xs-worker.js';
