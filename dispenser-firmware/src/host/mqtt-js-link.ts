import mqtt, { type MqttClient } from 'mqtt';
import type { MqttConnectOptions, MqttEvents, MqttLink } from '../hal.js';

const RECONNECT_MS = 1000;

/** The HAL's MQTT client on the host, over MQTT.js (which reconnects by itself). */
export class MqttJsLink implements MqttLink {
  #client: MqttClient | undefined;
  #ended: Promise<void> = Promise.resolve();

  /** `ca`: the fleet CA (PEM) an `mqtts://` broker's certificate must chain to. */
  constructor(
    private readonly url: string,
    private readonly ca?: string | Buffer,
  ) {}

  start(options: MqttConnectOptions, events: MqttEvents): void {
    const client = mqtt.connect(this.url, {
      clientId: options.clientId,
      username: options.username,
      password: options.password,
      keepalive: options.keepaliveSeconds,
      clean: true,
      resubscribe: false,
      reconnectPeriod: RECONNECT_MS,
      connectTimeout: 5000,
      will: { ...options.will, payload: Buffer.from(options.will.payload) },
      // TLS: the broker must present a certificate from the fleet CA (never rejectUnauthorized: false).
      ...(this.ca ? { ca: this.ca } : {}),
    });
    client.on('connect', () => {
      // Nagle's algorithm would hold each small QoS 1 packet ~40 ms waiting for the ack of the last.
      const socket = client.stream as { setNoDelay?: (noDelay: boolean) => void };
      socket.setNoDelay?.(true);
      events.onConnect();
    });
    client.on('close', () => events.onDisconnect());
    client.on('message', (topic, payload) => events.onMessage(topic, payload.toString('utf8')));
    // Refused or broken connections surface as 'close' and are retried; nothing to add here.
    client.on('error', () => undefined);
    this.#ended = new Promise((resolve) => client.once('end', () => resolve()));
    this.#client = client;
  }

  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): void {
    this.#client?.publish(topic, payload, options);
  }

  subscribe(topics: readonly string[]): void {
    this.#client?.subscribe([...topics], { qos: 1 });
  }

  stop(): void {
    this.#client?.end(false);
  }

  /** Resolves once the client has fully ended (after stop() or cut()). */
  ended(): Promise<void> {
    return this.#ended;
  }

  /** Power cut: the socket drops without DISCONNECT, so the broker publishes the last will. */
  cut(): void {
    const client = this.#client;
    if (!client) return;
    // A dead board hears nothing more, not even its own connection closing.
    for (const event of ['connect', 'close', 'message'] as const) client.removeAllListeners(event);
    client.end(true);
  }
}
