import Digital from 'embedded:io/digital';
import PulseCount from 'embedded:io/pulsecount';
import Client from 'moddable/mqtt';
import SecureSocket from 'securesocket';
import Preference from 'preference';
import Timer from 'timer';
import { fillRandom, freeHeap, restart, rssi } from 'tusafishe-native';
import type {
  Clock,
  FlowMeter,
  Hal,
  MqttConnectOptions,
  MqttEvents,
  MqttLink,
  Storage,
  TimerHandle,
  Valve,
} from '../hal.js';
import { Hd44780Lcd } from './hd44780-lcd.js';
import { MatrixKeypad } from './matrix-keypad.js';
import { otaSlots } from './ota-slots.js';

/** GPIO numbers and bus addresses of the dispenser board. */
export interface BoardPins {
  valve: number;
  flowSignal: number;
  lcd: { data: number; clock: number; address: number };
  keypad: { rows: readonly number[]; columns: readonly number[] };
}

const PREFERENCE_DOMAIN = 'tusafishe';
const RECONNECT_MS = 2000;

/** Solenoid driver on a GPIO: high = open. */
function solenoidValve(pin: number): Valve {
  const output = new Digital({ pin, mode: Digital.Output });
  output.write(0);
  return { open: () => output.write(1), close: () => output.write(0) };
}

/** The ESP32 pulse counter (PCNT) on the flow meter's signal line. */
function pulseCounterFlowMeter(signal: number): FlowMeter {
  let listener: (count: number) => void = () => undefined;
  const counter = new PulseCount({ signal, onReadable: () => listener(counter.read()) });
  return {
    count: () => counter.read(),
    reset: () => counter.write(0),
    onPulse: (next) => void (listener = next),
  };
}

const moddableClock: Clock = {
  now: () => Date.now(),
  after: (ms, callback) => Timer.set(callback, ms),
  every: (ms, callback) => Timer.repeat(callback, ms),
  cancel: (timer: TimerHandle | undefined) => {
    if (timer) Timer.clear(timer as object);
  },
};

/** Flash preferences (ESP32 NVS); each set() is committed before it returns. */
const preferenceStorage: Storage = {
  get: (key) => {
    const value = Preference.get(PREFERENCE_DOMAIN, key);
    return typeof value === 'string' ? value : undefined;
  },
  set: (key, value) => Preference.set(PREFERENCE_DOMAIN, key, value),
  remove: (key) => Preference.delete(PREFERENCE_DOMAIN, key),
};

/** Moddable's MQTT client does not reconnect by itself; this link does, until stop(). */
class ModdableMqttLink implements MqttLink {
  #client: Client | undefined;
  #retry: TimerHandle;
  #stopped = false;

  constructor(private readonly broker: BrokerAddress) {}

  start(options: MqttConnectOptions, events: MqttEvents): void {
    const reconnect = () => {
      this.#client = undefined;
      if (!this.#stopped) this.#retry = Timer.set(connect, RECONNECT_MS);
    };
    const connect = () => {
      try {
        const { host, port, caCertificate } = this.broker;
        const client = new Client({
          host,
          port,
          // MQTT over TLS 1.2 to the gateway, whose certificate must chain to the fleet CA.
          ...(caCertificate
            ? { Socket: SecureSocket, secure: { protocolVersion: 0x303, certificate: caCertificate } }
            : {}),
          id: options.clientId,
          user: options.username,
          password: options.password,
          timeout: options.keepaliveSeconds * 1000,
          will: {
            topic: options.will.topic,
            message: options.will.payload,
            retain: options.will.retain,
            quality: options.will.qos,
          },
        });
        client.onReady = () => events.onConnect();
        client.onMessage = (topic, data) => events.onMessage(topic, String.fromArrayBuffer(data));
        client.onClose = () => {
          events.onDisconnect();
          reconnect();
        };
        this.#client = client;
      } catch {
        reconnect();
      }
    };
    connect();
  }

  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): void {
    try {
      this.#client?.publish(topic, payload, { retain: options.retain, quality: options.qos });
    } catch {
      // Closed under us: onClose follows, and the firmware repeats whatever needs an answer.
    }
  }

  subscribe(topics: readonly string[]): void {
    for (const topic of topics) this.#client?.subscribe(topic);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#retry) Timer.clear(this.#retry as object);
    this.#client?.close();
  }
}

/** The gateway's broker; with the fleet CA certificate (DER) the link is MQTT over TLS. */
export interface BrokerAddress {
  host: string;
  port: number;
  caCertificate?: ArrayBuffer;
}

export function deviceHal(pins: BoardPins, broker: BrokerAddress): Hal {
  return {
    keypad: new MatrixKeypad(pins.keypad),
    lcd: new Hd44780Lcd(pins.lcd),
    valve: solenoidValve(pins.valve),
    flow: pulseCounterFlowMeter(pins.flowSignal),
    clock: moddableClock,
    storage: preferenceStorage,
    mqtt: new ModdableMqttLink(broker),
    system: {
      rssiDbm: rssi,
      freeHeap,
      randomBytes: (count) => {
        const buffer = new ArrayBuffer(count);
        fillRandom(buffer);
        return new Uint8Array(buffer);
      },
      restart,
    },
    firmware: otaSlots,
  };
}
