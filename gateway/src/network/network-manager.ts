import type { EventEmitter } from 'node:events';
import { type MessageBus, type ProxyInterface, sessionBus, Variant } from '@jellybrick/dbus-next';
import { type DbusConnection, plain, SECRET_KEYS, toDbus } from './dbus-settings.js';
import type { ConnectionSettings } from './kiosk-networks.js';

const NM = 'org.freedesktop.NetworkManager';
const NM_PATH = '/org/freedesktop/NetworkManager';
const SETTINGS_PATH = `${NM_PATH}/Settings`;
const PROPERTIES = 'org.freedesktop.DBus.Properties';

/** Values NetworkManager leaves out of `GetSettings` because they are its defaults. */
const NM_DEFAULTS: Record<string, unknown> = { 'connection.autoconnect': true };

/** What applying one connection did. */
export interface NetworkOutcome {
  id: string;
  /** Absent when NetworkManager refused the settings themselves. */
  action?: 'added' | 'updated' | 'unchanged';
  /** Activated (or re-activated after a change) by this apply. */
  activated: boolean;
  /** NetworkManager's refusal, e.g. `802-11-wireless-security.psk: property is invalid`. */
  error?: string;
}

interface Existing {
  path: string;
  id: string;
  uuid: string;
}

type Method = (...args: unknown[]) => Promise<unknown>;

function call(iface: ProxyInterface, method: string, ...args: unknown[]): Promise<unknown> {
  return (iface as unknown as Record<string, Method>)[method]!.apply(iface, args);
}

async function proxy(bus: MessageBus, path: string, name: string): Promise<ProxyInterface> {
  return (await bus.getProxyObject(NM, path)).getInterface(name);
}

async function property(bus: MessageBus, path: string, iface: string, name: string): Promise<unknown> {
  return plain(await call(await proxy(bus, path, PROPERTIES), 'Get', iface, name));
}

function reason(error: unknown): string {
  const text = (error as { text?: unknown }).text;
  return typeof text === 'string' ? text : error instanceof Error ? error.message : String(error);
}

/**
 * Applies the kiosk's connections to NetworkManager over D-Bus, idempotently: a connection
 * is found by its UUID (or, made by hand, its id), added if missing, updated only when a
 * setting or secret differs, and (re)activated only when added, changed or not active, so a
 * gateway restart does not drop the dispensers off their access point. One refused
 * connection does not stop the others; each outcome says what happened.
 */
export class NetworkManagerClient {
  private constructor(private readonly bus: MessageBus) {}

  /** Runs `work` on a connection to the bus at `busAddress` (a broken bus rejects, never hangs). */
  static async with<T>(busAddress: string, work: (client: NetworkManagerClient) => Promise<T>): Promise<T> {
    // dbus-next's `sessionBus` is its plain client for any address; its `systemBus` ignores the one given.
    const bus = sessionBus({ busAddress });
    // The bus reports a lost or refused socket as an event; pending calls would wait forever.
    const broken = new Promise<never>((_resolve, reject) => (bus as EventEmitter).on('error', reject));
    try {
      return await Promise.race([work(new NetworkManagerClient(bus)), broken]);
    } finally {
      bus.disconnect();
    }
  }

  async apply(connections: readonly ConnectionSettings[]): Promise<NetworkOutcome[]> {
    const existing = await this.connections();
    const active = await this.activeUuids();
    const outcomes: NetworkOutcome[] = [];
    for (const connection of connections) outcomes.push(await this.applyOne(connection, existing, active));
    return outcomes;
  }

  private async applyOne(
    connection: ConnectionSettings,
    existing: readonly Existing[],
    active: ReadonlySet<string>,
  ): Promise<NetworkOutcome> {
    const id = String(connection['connection']?.['id']);
    const uuid = String(connection['connection']?.['uuid']);
    const found = existing.find((e) => e.uuid === uuid) ?? existing.find((e) => e.id === id);
    let path: string;
    let action: NonNullable<NetworkOutcome['action']>;
    try {
      const desired = toDbus(connection);
      if (!found) {
        path = String(await call(await proxy(this.bus, SETTINGS_PATH, `${NM}.Settings`), 'AddConnection', desired));
        action = 'added';
      } else {
        path = found.path;
        // A connection made by hand keeps its UUID: NetworkManager does not let an update change it.
        desired['connection']!['uuid'] = new Variant('s', found.uuid);
        action = (await this.holds(found.path, desired)) ? 'unchanged' : 'updated';
        if (action === 'updated') await call(await this.settingsOf(path), 'Update', desired);
      }
    } catch (error) {
      return { id, activated: false, error: reason(error) };
    }
    if (action === 'unchanged' && active.has(found?.uuid ?? uuid)) return { id, action, activated: false };
    try {
      await call(await proxy(this.bus, NM_PATH, NM), 'ActivateConnection', path, '/', '/');
      return { id, action, activated: true };
    } catch (error) {
      return { id, action, activated: false, error: `not activated: ${reason(error)}` };
    }
  }

  private settingsOf(path: string): Promise<ProxyInterface> {
    return proxy(this.bus, path, `${NM}.Settings.Connection`);
  }

  private async connections(): Promise<Existing[]> {
    const paths = (await call(await proxy(this.bus, SETTINGS_PATH, `${NM}.Settings`), 'ListConnections')) as string[];
    return Promise.all(
      paths.map(async (path) => {
        const settings = plain(await call(await this.settingsOf(path), 'GetSettings')) as Record<
          string,
          Record<string, unknown>
        >;
        return { path, id: String(settings['connection']?.['id']), uuid: String(settings['connection']?.['uuid']) };
      }),
    );
  }

  private async activeUuids(): Promise<Set<string>> {
    const paths = (await property(this.bus, NM_PATH, NM, 'ActiveConnections')) as string[];
    const uuids = await Promise.all(paths.map((path) => property(this.bus, path, `${NM}.Connection.Active`, 'Uuid')));
    return new Set(uuids.map(String));
  }

  /** Whether the stored connection already has every setting and secret of `desired`. */
  private async holds(path: string, desired: DbusConnection): Promise<boolean> {
    const iface = await this.settingsOf(path);
    const current = plain(await call(iface, 'GetSettings')) as Record<string, Record<string, unknown>>;
    for (const setting of Object.keys(desired).filter((s) => SECRET_KEYS[s])) {
      const secrets = plain(await call(iface, 'GetSecrets', setting)) as Record<string, Record<string, unknown>>;
      current[setting] = { ...current[setting], ...secrets[setting] };
    }
    const wanted = plain(desired) as Record<string, Record<string, unknown>>;
    const managed = new Set([...Object.keys(wanted), ...Object.keys(current).filter((s) => s in SECRET_KEYS)]);
    for (const setting of managed) {
      const want = wanted[setting];
      if (!want || !current[setting]) return false;
      for (const [key, value] of Object.entries(want)) {
        const have = current[setting][key] ?? NM_DEFAULTS[`${setting}.${key}`];
        if (JSON.stringify(have) !== JSON.stringify(value)) return false;
      }
    }
    return true;
  }
}
