import type { DenialCode } from '@tusafishe/protocol';
import type { HardwareAlert } from './alerts/alert-book.js';
import type { ModemStatus } from './modem/modem-monitor.js';

export interface SensorSnapshot {
  sensor: string;
  kind: 'tank_level' | 'quality';
  status: 'ok' | 'silent' | 'pending';
  value: number | null;
  unit: string;
  okMin: number | null;
  okMax: number | null;
  inRange: boolean | null;
  at: number | null;
  error: string | null;
}

/** What the technicians' UI shows of the kiosk hardware (GET /api/hardware). */
export interface HardwareSnapshot {
  at: number;
  mode: 'hardware' | 'simulated';
  gpio: 'onoff' | 'simulated' | 'unavailable';
  tank: { levelPct: number | null; litres: number | null; lowFloatWet: boolean; highFloatWet: boolean };
  pump: { on: boolean };
  uvLamp: { on: boolean; fault: boolean | null };
  door: { open: boolean };
  sourceLow: boolean | null;
  sensors: SensorSnapshot[];
  modem: ModemStatus;
  /** The denial a dispense would get now, or null. */
  interlock: DenialCode | null;
  alerts: HardwareAlert[];
}
