/**
 * Entry of the firmware bundle that runs on XS in an xsnap worker: the device's state machine
 * on the forwarding HAL. The Node host boots it, then delivers each hardware event as one
 * `handleCommand` (one crank of the engine); every answer carries the firmware's view.
 */
import { Dispenser } from '../dispenser.js';
import type { FirmwareView, HostEvent } from './hal-messages.js';
import { runCallback, xsHal } from './xs-hal.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let dispenser: Dispenser | undefined;

function handle(event: HostEvent): void {
  switch (event.type) {
    case 'boot':
      dispenser = new Dispenser(xsHal(), event.identity, event.timings);
      return dispenser.start();
    case 'callback':
      return runCallback(event.id, event.args);
    case 'stop':
      return dispenser?.stop();
  }
}

function view(): FirmwareView {
  return {
    state: dispenser?.state ?? 'offline',
    connected: dispenser?.connected ?? false,
    pulsesPerLitre: dispenser?.config?.pulses_per_litre,
  };
}

(globalThis as { handleCommand?: (message: ArrayBuffer) => ArrayBuffer }).handleCommand = (message) => {
  handle(JSON.parse(decoder.decode(message)) as HostEvent);
  return encoder.encode(JSON.stringify(view())).buffer as ArrayBuffer;
};
