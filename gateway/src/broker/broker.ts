import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type AedesPublishPacket } from 'aedes';
import { DISPENSE_QOS } from '@tusafishe/protocol';
import type { Logger } from 'pino';
import { BrokerAuthorizer } from './authorizer.js';
import { guardPacketSize } from './packet-size-guard.js';

export interface BrokerOptions {
  host: string;
  port: number;
  logger: Logger;
}

export type MessageHandler = (topic: string, payload: Buffer) => void;

/**
 * The kiosk's MQTT broker (aedes) on TCP; the HTTP server hands it WebSocket
 * streams too. The gateway itself publishes and subscribes in-process.
 */
export class Broker {
  private constructor(
    readonly aedes: Aedes,
    readonly authorizer: BrokerAuthorizer,
    private readonly tcp: Server,
    readonly port: number,
  ) {}

  static async start(options: BrokerOptions): Promise<Broker> {
    const aedes = await Aedes.createBroker();
    const authorizer = new BrokerAuthorizer(options.logger);
    authorizer.attach(aedes);
    aedes.on('clientError', (client, error) =>
      options.logger.debug({ client_id: client.id, err: error.message }, 'broker client error'),
    );
    aedes.on('connectionError', (client, error) =>
      options.logger.debug({ client_id: client.id, err: error.message }, 'broker connection error'),
    );
    // Small request/answer messages: Nagle plus delayed ACKs would add ~40 ms to each.
    const tcp = createServer({ noDelay: true }, (socket) => {
      const refused = (error: Error) =>
        options.logger.warn(
          { remote: socket.remoteAddress, err: error.message },
          'MQTT connection cut: packet refused',
        );
      aedes.handle(guardPacketSize(socket, refused));
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(options.port, options.host, () => resolve());
    });
    return new Broker(aedes, authorizer, tcp, (tcp.address() as AddressInfo).port);
  }

  publish(topic: string, payload: string, retain = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: DISPENSE_QOS, retain, dup: false },
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }

  /** Hears every client publish matching `filter`; the handler runs after the broker moves on. */
  subscribe(filter: string, handler: MessageHandler): Promise<void> {
    const deliver = (packet: AedesPublishPacket, done: () => void): void => {
      done();
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      handler(packet.topic, payload);
    };
    return new Promise((resolve) => this.aedes.subscribe(filter, deliver, resolve));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}
