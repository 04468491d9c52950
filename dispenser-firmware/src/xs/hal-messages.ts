/**
 * The messages between the firmware running on XS (xs-hal.ts) and the Node host that owns
 * the hardware (host/xs-firmware.ts). Both sides use these names, so a HAL operation one
 * side lacks is a type error, not a silent gap.
 */
import type { FirmwareTimings, DispenserIdentity } from '../firmware-settings.js';
import type { DispenserStateName } from '../dispenser.js';

/** Every HAL operation the firmware can call; arguments and result travel as JSON. */
export type HalOp =
  | 'keypad.onKey'
  | 'lcd.show'
  | 'valve.open'
  | 'valve.close'
  | 'flow.count'
  | 'flow.reset'
  | 'flow.onPulse'
  | 'clock.now'
  | 'clock.after'
  | 'clock.every'
  | 'clock.cancel'
  | 'storage.get'
  | 'storage.set'
  | 'storage.remove'
  | 'mqtt.start'
  | 'mqtt.publish'
  | 'mqtt.subscribe'
  | 'mqtt.stop'
  | 'system.rssiDbm'
  | 'system.freeHeap'
  | 'system.randomBytes'
  | 'system.restart'
  | 'firmware.running'
  | 'firmware.verify'
  | 'firmware.install';

/** Firmware → host: `[op, ...args]`; a callback argument travels as its numeric id. */
export type HalCall = [HalOp, ...unknown[]];

/** Host → firmware reply to a HalCall: the value (absent for undefined), or the host's error message. */
export type HalResult = { value?: unknown } | { error: string };

/** Callback ids for the MQTT link's events. */
export interface MqttEventIds {
  connect: number;
  disconnect: number;
  message: number;
}

/** Host → firmware events, each run as one crank of the engine. */
export type HostEvent =
  | { type: 'boot'; identity: DispenserIdentity; timings: Partial<FirmwareTimings> }
  | { type: 'callback'; id: number; args: unknown[] }
  | { type: 'stop' };

/** Firmware → host after every event: what the host shows without asking. */
export interface FirmwareView {
  state: DispenserStateName;
  connected: boolean;
  pulsesPerLitre: number | undefined;
}
