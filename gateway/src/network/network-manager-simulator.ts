import { DBusError, interface as dbus, type Interface, type MessageBus, sessionBus } from '@jellybrick/dbus-next';
import { type DbusConnection, plain, SECRET_KEYS } from './dbus-settings.js';

const NM = 'org.freedesktop.NetworkManager';
const NM_PATH = '/org/freedesktop/NetworkManager';
const ERROR = {
  missing: `${NM}.Settings.Connection.MissingProperty`,
  invalid: `${NM}.Settings.Connection.InvalidProperty`,
  uuidExists: `${NM}.Settings.UuidExists`,
  unknownConnection: `${NM}.UnknownConnection`,
  unknownDevice: `${NM}.UnknownDevice`,
};

/** One call the simulator received: method, object path and its arguments as plain data. */
export interface RecordedCall {
  method: string;
  path: string;
  args: unknown[];
}

export interface NetworkManagerSimulatorOptions {
  /** Network interfaces present (an AP bound to another one cannot be activated). Default wlan0, wlan1. */
  interfaces?: readonly string[];
  /** A 4G modem is present (a `gsm` connection can be activated). Default true. */
  modem?: boolean;
}

const BG_CHANNELS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
const A_CHANNELS = new Set([
  36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144, 149, 153, 157, 161, 165,
]);

function missing(property: string): DBusError {
  return new DBusError(ERROR.missing, `${property}: property is missing`);
}
function invalid(property: string, why = 'property is invalid'): DBusError {
  return new DBusError(ERROR.invalid, `${property}: ${why}`);
}

/**
 * The checks NetworkManager's `nm_connection_verify()` and `verify_secrets()` make on the
 * settings the kiosk sends (libnm-core's nm-setting-*.c), with its error names and texts.
 */
function verify(settings: DbusConnection): void {
  const get = (setting: string, key: string) => plain(settings[setting]?.[key]);
  const connection = settings['connection'];
  if (!connection) throw missing('connection');
  for (const key of ['id', 'uuid', 'type']) if (!get('connection', key)) throw missing(`connection.${key}`);
  const uuid = String(get('connection', 'uuid'));
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid))
    throw invalid('connection.uuid', `'${uuid}' is not a valid UUID`);
  const type = get('connection', 'type');
  if (type === '802-11-wireless') {
    if (!settings['802-11-wireless']) throw missing('802-11-wireless');
    const ssid = settings['802-11-wireless']['ssid']?.value;
    if (!Buffer.isBuffer(ssid)) throw missing('802-11-wireless.ssid');
    if (ssid.length < 1 || ssid.length > 32)
      throw invalid('802-11-wireless.ssid', 'SSID length is out of range <1-32> bytes');
    const mode = get('802-11-wireless', 'mode') ?? 'infrastructure';
    if (!['infrastructure', 'adhoc', 'ap', 'mesh'].includes(String(mode)))
      throw invalid('802-11-wireless.mode', `'${String(mode)}' is not a valid value for the property`);
    const band = get('802-11-wireless', 'band');
    const channel = Number(get('802-11-wireless', 'channel') ?? 0);
    if (band !== undefined && band !== 'a' && band !== 'bg')
      throw invalid('802-11-wireless.band', `'${String(band)}' is not a valid value for the property`);
    if (channel !== 0 && (band === undefined || !(band === 'a' ? A_CHANNELS : BG_CHANNELS).has(channel)))
      throw invalid('802-11-wireless.channel', `'${channel}' is not a valid channel`);
    const security = settings['802-11-wireless-security'];
    if (security) {
      const keyMgmt = get('802-11-wireless-security', 'key-mgmt');
      if (!keyMgmt) throw missing('802-11-wireless-security.key-mgmt');
      const psk = get('802-11-wireless-security', 'psk');
      if (keyMgmt === 'wpa-psk' && psk !== undefined) {
        const text = String(psk);
        const ok = (text.length >= 8 && text.length <= 63) || /^[0-9a-fA-F]{64}$/.test(text);
        if (!ok) throw invalid('802-11-wireless-security.psk');
      }
    }
  }
  if (type === 'gsm') {
    if (!settings['gsm']) throw missing('gsm');
    const apn = get('gsm', 'apn');
    if (apn !== undefined) {
      const text = String(apn);
      if (text.length > 64) throw invalid('gsm.apn', `property value '${text}' is empty or too long (>64)`);
      if (!/^[A-Za-z0-9._@-]*$/.test(text))
        throw invalid('gsm.apn', `'${text}' contains invalid char(s) (use [A-Za-z._-0-9@])`);
    }
  }
  const method = get('ipv4', 'method');
  if (method !== undefined && !['auto', 'link-local', 'manual', 'shared', 'disabled'].includes(String(method)))
    throw invalid('ipv4.method');
}

/**
 * dbus-next's `Interface` declares `$properties`/`$methods`/`$signals` as instance fields,
 * which hide what `configureMembers` puts on the prototype; removing them uncovers it.
 */
class Exported extends dbus.Interface {
  constructor(name: string) {
    super(name);
    for (const key of ['$properties', '$methods', '$signals'] as const) delete this[key];
  }
}

/** Settings without secrets and without NetworkManager's defaults, as `GetSettings` returns them. */
function withoutSecrets(settings: DbusConnection): DbusConnection {
  const copy: DbusConnection = {};
  for (const [setting, values] of Object.entries(settings)) {
    copy[setting] = Object.fromEntries(
      Object.entries(values).filter(
        ([key, value]) =>
          !SECRET_KEYS[setting]?.includes(key) && !(setting === 'connection' && key === 'autoconnect' && value.value),
      ),
    );
  }
  return copy;
}

/**
 * A stand-in for NetworkManager on a D-Bus bus (it cannot run here): `Settings` with
 * `ListConnections` and `AddConnection`, each connection's `GetSettings`, `GetSecrets` and
 * `Update`, and `ActivateConnection` with the `ActiveConnections` it creates. It refuses
 * what NetworkManager refuses and records every call it answers.
 */
export class NetworkManagerSimulator {
  readonly calls: RecordedCall[] = [];
  /** Stored connections by object path, as sent (secrets included). */
  readonly stored = new Map<string, DbusConnection>();
  private readonly active = new Map<string, { path: string; iface: Interface }>();
  private nextId = 1;

  private constructor(
    private readonly bus: MessageBus,
    private readonly options: Required<NetworkManagerSimulatorOptions>,
  ) {}

  static async start(
    busAddress: string,
    options: NetworkManagerSimulatorOptions = {},
  ): Promise<NetworkManagerSimulator> {
    const bus = sessionBus({ busAddress });
    const simulator = new NetworkManagerSimulator(bus, {
      interfaces: options.interfaces ?? ['wlan0', 'wlan1'],
      modem: options.modem ?? true,
    });
    await bus.requestName(NM, 0);
    bus.export(NM_PATH, simulator.managerInterface());
    bus.export(`${NM_PATH}/Settings`, simulator.settingsInterface());
    return simulator;
  }

  /** The calls of one method, arguments as plain data. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** UUIDs of the active connections. */
  activeUuids(): string[] {
    return [...this.active.keys()].map((path) => String(plain(this.stored.get(path)?.['connection']?.['uuid'])));
  }

  close(): void {
    this.bus.disconnect();
  }

  private record(method: string, path: string, args: unknown[]): void {
    this.calls.push({ method, path, args: args.map(plain) });
  }

  private managerInterface(): Interface {
    const simulator = this;
    class Manager extends Exported {
      get ActiveConnections(): string[] {
        return [...simulator.active.values()].map((a) => a.path);
      }
      ActivateConnection(connection: string, device: string, specific: string): string {
        simulator.record('ActivateConnection', NM_PATH, [connection, device, specific]);
        return simulator.activate(connection);
      }
    }
    Manager.configureMembers({
      properties: { ActiveConnections: { signature: 'ao', access: dbus.ACCESS_READ } },
      methods: { ActivateConnection: { inSignature: 'ooo', outSignature: 'o' } },
    });
    return new Manager(NM);
  }

  private settingsInterface(): Interface {
    const simulator = this;
    class Settings extends Exported {
      ListConnections(): string[] {
        simulator.record('ListConnections', `${NM_PATH}/Settings`, []);
        return [...simulator.stored.keys()];
      }
      AddConnection(settings: DbusConnection): string {
        simulator.record('AddConnection', `${NM_PATH}/Settings`, [settings]);
        return simulator.add(settings);
      }
    }
    Settings.configureMembers({
      methods: {
        ListConnections: { outSignature: 'ao' },
        AddConnection: { inSignature: 'a{sa{sv}}', outSignature: 'o' },
      },
    });
    return new Settings(`${NM}.Settings`);
  }

  private add(settings: DbusConnection): string {
    verify(settings);
    const uuid = plain(settings['connection']?.['uuid']);
    for (const stored of this.stored.values())
      if (plain(stored['connection']?.['uuid']) === uuid)
        throw new DBusError(ERROR.uuidExists, `A connection with '${String(uuid)}' already exists`);
    const path = `${NM_PATH}/Settings/${this.nextId++}`;
    this.stored.set(path, settings);
    this.bus.export(path, this.connectionInterface(path));
    return path;
  }

  private connectionInterface(path: string): Interface {
    const simulator = this;
    class Connection extends Exported {
      GetSettings(): DbusConnection {
        simulator.record('GetSettings', path, []);
        return withoutSecrets(simulator.stored.get(path)!);
      }
      GetSecrets(setting: string): DbusConnection {
        simulator.record('GetSecrets', path, [setting]);
        const values = simulator.stored.get(path)![setting] ?? {};
        const secrets = Object.entries(values).filter(([key]) => SECRET_KEYS[setting]?.includes(key));
        return { [setting]: Object.fromEntries(secrets) };
      }
      Update(settings: DbusConnection): void {
        simulator.record('Update', path, [settings]);
        verify(settings);
        if (plain(settings['connection']?.['uuid']) !== plain(simulator.stored.get(path)!['connection']?.['uuid']))
          throw invalid('connection.uuid', 'the UUID of a connection cannot be changed');
        simulator.stored.set(path, settings);
      }
    }
    Connection.configureMembers({
      methods: {
        GetSettings: { outSignature: 'a{sa{sv}}' },
        GetSecrets: { inSignature: 's', outSignature: 'a{sa{sv}}' },
        Update: { inSignature: 'a{sa{sv}}' },
      },
    });
    return new Connection(`${NM}.Settings.Connection`);
  }

  private activate(connectionPath: string): string {
    const settings = this.stored.get(connectionPath);
    if (!settings) throw new DBusError(ERROR.unknownConnection, 'Connection not found');
    const type = plain(settings['connection']?.['type']);
    const device = plain(settings['connection']?.['interface-name']);
    if (type === 'gsm' ? !this.options.modem : !this.options.interfaces.includes(String(device)))
      throw new DBusError(
        ERROR.unknownDevice,
        `No suitable device found for this connection (device ${String(device ?? 'modem')} not available)`,
      );
    // Activating an active connection re-activates it: the old active object goes away.
    const previous = this.active.get(connectionPath);
    if (previous) this.bus.unexport(previous.path, previous.iface);
    const path = `${NM_PATH}/ActiveConnection/${this.nextId++}`;
    const uuid = String(plain(settings['connection']?.['uuid']));
    const id = String(plain(settings['connection']?.['id']));
    class Active extends Exported {
      Uuid = uuid;
      Id = id;
      State = 2; // NM_ACTIVE_CONNECTION_STATE_ACTIVATED
      Connection = connectionPath;
    }
    Active.configureMembers({
      properties: {
        Uuid: { signature: 's', access: dbus.ACCESS_READ },
        Id: { signature: 's', access: dbus.ACCESS_READ },
        State: { signature: 'u', access: dbus.ACCESS_READ },
        Connection: { signature: 'o', access: dbus.ACCESS_READ },
      },
    });
    const iface = new Active(`${NM}.Connection.Active`);
    this.bus.export(path, iface);
    this.active.set(connectionPath, { path, iface });
    return path;
  }
}
