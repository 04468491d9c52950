import { createServer } from 'node:net';
import type { Logger } from 'pino';
import type { Condition } from '../hardware/rules/kiosk-rules.js';
import { type ConnectionSettings, DISPENSER_NETWORK } from './kiosk-networks.js';
import { NetworkManagerClient, type NetworkOutcome } from './network-manager.js';

export interface KioskNetworkSetupOptions {
  connections: readonly ConnectionSettings[];
  /** NetworkManager's bus (`DBUS_SYSTEM_BUS_ADDRESS`). */
  busAddress: string;
  /** The addresses the broker and HTTP should bind (the access points' own). */
  mqttHost: string;
  httpHost: string;
  /** Bound instead when an address never appears on an interface (GATEWAY_HOST). */
  fallbackHost: string;
  logger: Logger;
  /** How long to wait for the access points' addresses (default 60 s). */
  addressWaitMs?: number;
  /** Re-apply after a failure this often (default 60 s). */
  retryMs?: number;
  /** One apply may take this long before it counts as failed (default 30 s). */
  applyTimeoutMs?: number;
  /** Whether an address can be listened on now (default: try it on a free port). */
  canBind?: (host: string) => Promise<boolean>;
}

export interface KioskNetworkSetup {
  /** Where the broker and HTTP listen: the access points' addresses, or the fallback. */
  mqttHost: string;
  httpHost: string;
  /** What is wrong with the kiosk's networks now, alerted like the hardware's conditions. */
  conditions(): Condition[];
  close(): void;
}

/** The truest test that an address is this machine's: listen on it (EADDRNOTAVAIL when it is not). */
function tryBind(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port: 0 }, () => server.close(() => resolve(true)));
  });
}

function outcomeCondition(outcome: NetworkOutcome): Condition | undefined {
  if (!outcome.error) return undefined;
  return {
    key: `network:${outcome.id}`,
    // Without the dispensers' network no water is sold; the others are for people and the cloud.
    severity: outcome.id === DISPENSER_NETWORK ? 'critical' : 'warning',
    message: `Network ${outcome.id}: ${outcome.error}`,
    details: { connection: outcome.id, action: outcome.action ?? null, error: outcome.error },
  };
}

/**
 * Brings up the kiosk's networks before the gateway listens: applies the connections to
 * NetworkManager (retrying in the background after a failure), then waits for the access
 * points' addresses so the broker and HTTP can bind them. An address that never appears is
 * replaced by the fallback (all interfaces) with a critical condition: a kiosk whose AP is
 * late still serves, and says so loudly.
 */
export async function setUpKioskNetworks(options: KioskNetworkSetupOptions): Promise<KioskNetworkSetup> {
  const { logger } = options;
  let applyConditions: Condition[] = [];
  const addressConditions: Condition[] = [];
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const apply = async (): Promise<void> => {
    let timeout: NodeJS.Timeout | undefined;
    try {
      const outcomes = await Promise.race([
        NetworkManagerClient.with(options.busAddress, (client) => client.apply(options.connections)),
        new Promise<never>((_resolve, reject) => {
          timeout = setTimeout(
            () => reject(new Error('NetworkManager did not answer in time')),
            options.applyTimeoutMs ?? 30_000,
          );
        }),
      ]);
      for (const outcome of outcomes)
        logger[outcome.error ? 'error' : 'info'](
          { network: outcome },
          `network ${outcome.id}: ${outcome.action ?? 'refused'}`,
        );
      applyConditions = outcomes.map(outcomeCondition).filter((c): c is Condition => c !== undefined);
    } catch (error) {
      logger.error({ err: error, bus: options.busAddress }, 'kiosk networks not applied: NetworkManager unreachable');
      applyConditions = [
        {
          key: 'network:dbus',
          severity: 'critical',
          message: `Kiosk networks not applied: NetworkManager unreachable over D-Bus (${(error as Error).message})`,
          details: { bus: options.busAddress },
        },
      ];
    } finally {
      clearTimeout(timeout);
    }
    if (applyConditions.length > 0 && !closed) {
      retry = setTimeout(() => void apply(), options.retryMs ?? 60_000);
      retry.unref();
    }
  };
  await apply();

  const canBind = options.canBind ?? tryBind;
  const deadline = Date.now() + (options.addressWaitMs ?? 60_000);
  const bindable = async (host: string): Promise<string> => {
    // NetworkManager gives the AP its address a moment after activation.
    while (!(await canBind(host))) {
      if (Date.now() >= deadline) return missing(host);
      await new Promise((r) => setTimeout(r, 500));
    }
    return host;
  };
  const missing = (host: string): string => {
    logger.error({ address: host }, `address ${host} is on no interface: listening on ${options.fallbackHost} instead`);
    addressConditions.push({
      key: `network_address:${host}`,
      severity: 'critical',
      message: `Access point address ${host} missing: listening on ${options.fallbackHost} instead`,
      details: { address: host, fallback: options.fallbackHost },
    });
    return options.fallbackHost;
  };
  const mqttHost = await bindable(options.mqttHost);
  const httpHost = await bindable(options.httpHost);
  return {
    mqttHost,
    httpHost,
    conditions: () => [...applyConditions, ...addressConditions],
    close: () => {
      closed = true;
      clearTimeout(retry);
    },
  };
}
