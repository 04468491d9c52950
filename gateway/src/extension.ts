import type { Logger } from 'pino';

/**
 * One part a gateway runs beside its core (cloud sync, kiosk hardware, backups, firmware
 * updates, the technicians' UI). It is built on the composed gateway — that is when it
 * registers its HTTP routes, broker authenticators and metrics, because fastify takes routes
 * only before it listens — and its work (timers, workers, devices, event-bus listeners
 * through `events.scope()`) runs from `start()` to `stop()`. After `stop()` it holds no
 * listener, timer or device, and `start()` may be called again. See README § Extensions.
 */
export interface GatewayExtension {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the gateway's extensions in order and stops them in reverse (zigbee2mqtt's controller). */
export class ExtensionController {
  readonly #extensions: GatewayExtension[] = [];
  #started: GatewayExtension[] = [];

  constructor(private readonly logger: Logger) {}

  get list(): readonly GatewayExtension[] {
    return this.#extensions;
  }

  add(...extensions: readonly GatewayExtension[]): void {
    this.#extensions.push(...extensions);
  }

  /** Starts those not running, in order; if one fails, those started are stopped again and the error thrown. */
  async start(): Promise<void> {
    for (const extension of this.#extensions) {
      if (this.#started.includes(extension)) continue;
      try {
        await extension.start();
      } catch (error) {
        await this.stop();
        throw error;
      }
      this.#started.push(extension);
      this.logger.debug({ extension: extension.name }, 'extension started');
    }
  }

  /** Stops every running extension, last started first; one that fails to stop does not keep the others running. */
  async stop(): Promise<void> {
    for (const extension of this.#started.splice(0).reverse()) {
      try {
        await extension.stop();
        this.logger.debug({ extension: extension.name }, 'extension stopped');
      } catch (error) {
        this.logger.error({ err: error, extension: extension.name }, 'extension did not stop cleanly');
      }
    }
  }
}
