/**
 * The Moddable SDK (XS on ESP32) APIs the device HAL uses, and nothing more: ECMA-419 IO
 * classes, Moddable's timer, preference and MQTT modules, and this firmware's small native
 * module (native/tusafishe-native.c).
 */

declare module 'embedded:io/digital' {
  export default class Digital {
    static readonly Input: number;
    static readonly InputPullUp: number;
    static readonly Output: number;
    constructor(options: { pin: number; mode: number });
    read(): number;
    write(value: number): void;
    close(): void;
  }
}

declare module 'embedded:io/pulsecount' {
  export default class PulseCount {
    /** `onReadable` runs when the count changes. */
    constructor(options: { signal: number; control?: number; onReadable?: (this: PulseCount) => void });
    read(): number;
    write(count: number): void;
    close(): void;
  }
}

declare module 'embedded:io/i2c' {
  export default class I2C {
    constructor(options: { data: number; clock: number; hz: number; address: number });
    write(buffer: ArrayBufferLike | ArrayBufferView): void;
    close(): void;
  }
}

declare module 'timer' {
  type TimerId = object;
  const Timer: {
    set(callback: () => void, ms: number): TimerId;
    repeat(callback: () => void, ms: number): TimerId;
    clear(timer: TimerId): void;
  };
  export default Timer;
}

declare module 'time' {
  const Time: { delay(ms: number): void };
  export default Time;
}

declare module 'preference' {
  const Preference: {
    get(domain: string, key: string): string | number | boolean | ArrayBuffer | undefined;
    set(domain: string, key: string, value: string | number | boolean | ArrayBuffer): void;
    delete(domain: string, key: string): void;
  };
  export default Preference;
}

/** Moddable's modules/network/mqtt, mapped to this name in manifest.json (plain "mqtt" is MQTT.js on the host). */
declare module 'moddable/mqtt' {
  export interface MqttClientOptions {
    host: string;
    port?: number;
    id: string;
    user?: string;
    password?: string;
    /** Keep-alive in ms. */
    timeout?: number;
    will?: { topic: string; message: string; retain?: boolean; quality?: number };
    /** The socket class: `SecureSocket` for MQTT over TLS. */
    Socket?: typeof import('securesocket').default;
    /** TLS settings handed to `Socket` (SecureSocket's `secure` dictionary). */
    secure?: import('securesocket').SecureOptions;
  }
  /** QoS 0 client: publishes with `quality` set are sent but their PUBACKs are not reported. */
  export default class Client {
    constructor(options: MqttClientOptions);
    onReady?: () => void;
    onMessage?: (topic: string, data: ArrayBuffer) => void;
    onClose?: () => void;
    publish(topic: string, data: string, flags?: { retain?: boolean; quality?: number }): void;
    subscribe(topic: string): void;
    close(): void;
  }
}

/** Moddable's TLS socket (modules/crypt/securesocket), used by the MQTT client for `mqtts`. */
declare module 'securesocket' {
  export interface SecureOptions {
    /** Minimum TLS version: 0x303 is TLS 1.2. */
    protocolVersion?: number;
    /** The CA certificate (DER) the server's chain must end in; without it, the built-in store. */
    certificate?: ArrayBuffer;
    /** Server name for SNI and the certificate's name check; default the host. */
    serverName?: string;
  }
  export default class SecureSocket {
    constructor(dictionary: { host: string; port: number; secure?: SecureOptions });
  }
}

declare module 'tusafishe-native' {
  export function restart(): void;
  export function freeHeap(): number;
  /** Signal strength of the WiFi access point, dBm. */
  export function rssi(): number;
  /** Fills the buffer from the ESP32 hardware random number generator. */
  export function fillRandom(buffer: ArrayBuffer): void;
  /** Opens the inactive OTA partition for an image of `size` bytes and starts its SHA-256; throws without one. */
  export function otaBegin(size: number): void;
  /** Appends to the partition and to the hash. */
  export function otaWrite(chunk: ArrayBuffer): void;
  /** True, and the partition boots next, only if the hash equals `sha256Hex` and ESP-IDF validates the image. */
  export function otaFinish(sha256Hex: string): boolean;
  /** Discards the partition; the running image stays the boot image. */
  export function otaAbort(): void;
  /** True when `signatureBase64` is a valid Ed25519 signature of `message` (UTF-8) by `publicKeyBase64` (raw 32 bytes). */
  export function verifyEd25519(publicKeyBase64: string, message: string, signatureBase64: string): boolean;
}

/** ECMA-419 HTTP client from Moddable's host provider (`device.network.http`). */
interface HttpClientOptions {
  host: string;
  port?: number;
}
interface HttpRequest {
  read(count: number): ArrayBuffer;
}
interface HttpClient {
  request(options: {
    path: string;
    onHeaders?: (this: HttpRequest, status: number) => void;
    onReadable?: (this: HttpRequest, count: number) => void;
    onDone?: (this: HttpRequest, error?: Error) => void;
  }): HttpRequest;
  close(): void;
}
declare const device: {
  network: { http: { io: new (options: HttpClientOptions) => HttpClient } };
};

interface StringConstructor {
  /** Moddable: UTF-8 bytes to a string. */
  fromArrayBuffer(buffer: ArrayBuffer): string;
}
