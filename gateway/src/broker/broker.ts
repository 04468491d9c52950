import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes, type AedesPublishPacket } from 'aedes';
import { DISPENSE_QOS } from '@tusafishe/protocol';
import type { Logger } from 'pino';
import type { Duplex } from 'node:stream';
import { AddressBudget } from '@tusafishe/protocol/address-budget';
import { BrokerAuthorizer } from './authorizer.js';
import { ConnectionGate } from './connection-gate.js';
import { LoginVerifier } from './login-verifier.js';
import { guardPacketSize } from './packet-size-guard.js';

/** What one client address may cost the broker before it has logged in. */
export interface BrokerLimits {
  /** Connections not yet logged in, at once: from everyone, and from one address. */
  maxPending: number;
  maxPendingPerAddress: number;
  /** Refused logins per address per window; beyond it the address's logins are refused unchecked. */
  failedLoginsPerWindow: number;
  failedLoginWindowMs: number;
  /** Broker-login hashes at once and waiting (the rest of libuv's pool is for PINs and the WAL sync). */
  loginHashConcurrency: number;
  maxLoginsWaiting: number;
}

const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPending: 100,
  maxPendingPerAddress: 16,
  failedLoginsPerWindow: 20,
  failedLoginWindowMs: 15 * 60_000,
  loginHashConcurrency: 1,
  maxLoginsWaiting: 32,
};

/** A kiosk certificate (PEM) from `npm run provision -- kiosk certificate`. */
export interface GatewayTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** MQTT over TLS; default 8883, 0 picks a free port. */
  mqttsPort?: number;
}

export interface BrokerOptions {
  host: string;
  port: number;
  tls?: GatewayTls;
  logger: Logger;
  limits?: Partial<BrokerLimits>;
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
    /** Checks broker-login secrets through a bounded queue; authenticators hash through it. */
    readonly logins: LoginVerifier,
    private readonly gate: ConnectionGate,
    private readonly underlying: WeakMap<object, Duplex>,
    private readonly logger: Logger,
    private servers: Server[] = [],
    public port = 0,
    public tlsPort: number | null = null,
  ) {}

  static async start(options: BrokerOptions): Promise<Broker> {
    const limits = { ...DEFAULT_BROKER_LIMITS, ...options.limits };
    const aedes = await Aedes.createBroker();
    const gate = new ConnectionGate(limits);
    // aedes sees the size-guarded stream; the gate counts the connection under it.
    const underlying = new WeakMap<object, Duplex>();
    const connectionOf = (client: { conn: object }) => underlying.get(client.conn) ?? (client.conn as Duplex);
    const failedLogins = new AddressBudget({ max: limits.failedLoginsPerWindow, windowMs: limits.failedLoginWindowMs });
    const authorizer = new BrokerAuthorizer(options.logger, {
      addressOf: (client) => gate.addressOf(connectionOf(client)),
      failedLogins,
      onLoggedIn: (client) => gate.loggedIn(connectionOf(client)),
    });
    authorizer.attach(aedes);
    const logins = new LoginVerifier({ concurrency: limits.loginHashConcurrency, maxWaiting: limits.maxLoginsWaiting });
    aedes.on('clientError', (client, error) =>
      options.logger.debug({ client_id: client.id, err: error.message }, 'broker client error'),
    );
    aedes.on('connectionError', (client, error) =>
      options.logger.debug({ client_id: client.id, err: error.message }, 'broker connection error'),
    );
    const broker = new Broker(aedes, authorizer, logins, gate, underlying, options.logger);
    // Small request/answer messages: Nagle plus delayed ACKs would add ~40 ms to each.
    const tcp = createServer({ noDelay: true }, (socket) => broker.accept(socket, socket.remoteAddress));
    broker.port = await broker.listen(tcp, options.port, options.host);
    if (options.tls) {
      const secure = createTlsServer({ cert: options.tls.cert, key: options.tls.key, noDelay: true }, (socket) =>
        broker.accept(socket, socket.remoteAddress),
      );
      // A failed handshake is the client's problem, not the broker's.
      secure.on('tlsClientError', (error, socket) =>
        options.logger.debug({ remote: socket.remoteAddress, err: error.message }, 'MQTT TLS handshake failed'),
      );
      broker.tlsPort = await broker.listen(secure, options.tls.mqttsPort ?? 8883, options.host);
    }
    return broker;
  }

  private async listen(server: Server, port: number, host: string): Promise<number> {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    } catch (error) {
      await this.close();
      throw error;
    }
    this.servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  /**
   * Takes one client connection (TCP, or a WebSocket stream from the HTTP server): counted
   * against the not-yet-logged-in caps, and every packet size-checked before it is buffered.
   */
  accept(connection: Duplex, remote: string | undefined): void {
    if (!this.gate.admit(connection, remote)) {
      this.logger.warn({ remote }, 'MQTT connection refused: too many connections not logged in');
      connection.destroy();
      return;
    }
    const refused = (error: Error) =>
      this.logger.warn({ remote, err: error.message }, 'MQTT connection cut: packet refused');
    const guarded = guardPacketSize(connection, refused);
    this.underlying.set(guarded, connection);
    this.aedes.handle(guarded);
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
    for (const server of this.servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
