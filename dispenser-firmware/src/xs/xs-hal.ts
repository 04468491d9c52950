/**
 * The HAL of the firmware running on Moddable's XS engine in an xsnap worker (tests and the
 * bench): every operation is forwarded to the Node host, which owns the simulated hardware
 * (panel, water line, flash files, MQTT.js on the gateway's broker). Only this file and
 * xs-main.ts replace the device modules; the firmware above the HAL is the device's own code.
 */
import type { FirmwareImage, Hal, Key, MqttConnectOptions, MqttEvents, TimerHandle } from '../hal.js';
import type { HalCall, HalOp, HalResult, MqttEventIds } from './hal-messages.js';

/** xsnap's host function: sends a message to the parent and blocks for its answer. */
declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// biome-ignore lint/suspicious/noExplicitAny: callbacks of every HAL signature share one table
type Callback = (...args: any[]) => void;
const callbacks = new Map<number, { run: Callback; once: boolean }>();
let lastCallbackId = 0;

function register(run: Callback, once: boolean): number {
  lastCallbackId += 1;
  callbacks.set(lastCallbackId, { run, once });
  return lastCallbackId;
}

/** Runs a callback the host fired (a key, a pulse, a timer, an MQTT event, an install result). */
export function runCallback(id: number, args: unknown[]): void {
  const callback = callbacks.get(id);
  if (!callback) return;
  if (callback.once) callbacks.delete(id);
  callback.run(...args);
}

function call(op: HalOp, ...args: unknown[]): unknown {
  const message: HalCall = [op, ...args];
  const answer = issueCommand(encoder.encode(JSON.stringify(message)).buffer as ArrayBuffer);
  const result = JSON.parse(decoder.decode(answer)) as HalResult;
  if ('error' in result) throw new Error(result.error);
  return result.value;
}

export function xsHal(): Hal {
  return {
    keypad: { onKey: (listener: (key: Key) => void) => void call('keypad.onKey', register(listener, false)) },
    lcd: { show: (lines) => void call('lcd.show', lines) },
    valve: { open: () => void call('valve.open'), close: () => void call('valve.close') },
    flow: {
      count: () => call('flow.count') as number,
      reset: () => void call('flow.reset'),
      onPulse: (listener) => void call('flow.onPulse', register(listener, false)),
    },
    clock: {
      now: () => call('clock.now') as number,
      after: (ms, callback): TimerHandle => {
        const id = register(callback, true);
        call('clock.after', ms, id);
        return id;
      },
      every: (ms, callback): TimerHandle => {
        const id = register(callback, false);
        call('clock.every', ms, id);
        return id;
      },
      cancel: (timer) => {
        if (typeof timer !== 'number' || !callbacks.delete(timer)) return;
        call('clock.cancel', timer);
      },
    },
    storage: {
      get: (key) => call('storage.get', key) as string | undefined,
      set: (key, value) => void call('storage.set', key, value),
      remove: (key) => void call('storage.remove', key),
    },
    mqtt: {
      start: (options: MqttConnectOptions, events: MqttEvents) => {
        const ids: MqttEventIds = {
          connect: register(() => events.onConnect(), false),
          disconnect: register(() => events.onDisconnect(), false),
          message: register((topic: string, payload: string) => events.onMessage(topic, payload), false),
        };
        call('mqtt.start', options, ids);
      },
      publish: (topic, payload, options) => void call('mqtt.publish', topic, payload, options),
      subscribe: (topics) => void call('mqtt.subscribe', topics),
      stop: () => void call('mqtt.stop'),
    },
    system: {
      rssiDbm: () => call('system.rssiDbm') as number,
      freeHeap: () => call('system.freeHeap') as number,
      randomBytes: (count) => new Uint8Array(call('system.randomBytes', count) as number[]),
      restart: () => void call('system.restart'),
    },
    firmware: {
      running: () => call('firmware.running') as string,
      // As on the device, the signature check is native (the host's node:crypto), not JavaScript on XS.
      verify: (text: string, signature: string) => call('firmware.verify', text, signature) as boolean,
      install: (image: FirmwareImage, done: (error?: string) => void) =>
        void call('firmware.install', image, register(done, true)),
    },
  };
}
