/**
 * Device entry (Moddable XS on ESP32). WiFi and SNTP are brought up by Moddable's
 * network setup (manifest config) before this runs; the dispenser's identity and broker
 * are provisioned into flash preferences (domain "tusafishe-id").
 */
import Preference from 'preference';
import { Dispenser } from '../dispenser.js';
import { deviceHal, type BoardPins } from './device-hal.js';

const PINS: BoardPins = {
  valve: 26,
  flowSignal: 34,
  lcd: { data: 21, clock: 22, address: 0x27 },
  keypad: { rows: [13, 12, 14, 27], columns: [25, 33, 32, 35] },
};

function provisioned(key: string): string {
  const value = Preference.get('tusafishe-id', key);
  if (typeof value !== 'string' || !value) throw new Error(`not provisioned: ${key}`);
  return value;
}

const id = provisioned('id');
// A fleet CA provisioned (DER, key "ca") means MQTT over TLS, on 8883 unless a port is set.
const ca = Preference.get('tusafishe-id', 'ca');
const caCertificate = ca instanceof ArrayBuffer ? ca : undefined;
const hal = deviceHal(PINS, {
  host: provisioned('broker'),
  port: Number(Preference.get('tusafishe-id', 'port') ?? (caCertificate ? 8883 : 1883)),
  ...(caCertificate ? { caCertificate } : {}),
});
new Dispenser(hal, { id, username: id, password: provisioned('password') }).start();
