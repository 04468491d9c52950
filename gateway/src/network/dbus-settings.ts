import { Variant } from '@jellybrick/dbus-next';
import type { ConnectionSettings } from './kiosk-networks.js';

/** A connection as NetworkManager's D-Bus API takes and gives it: `a{sa{sv}}`. */
export type DbusConnection = Record<string, Record<string, Variant>>;

type Value = string | number | boolean;

/**
 * How each key the kiosk sets travels over D-Bus: its D-Bus name, type signature and value.
 * Keyfiles spell some keys differently from D-Bus (the SSID is bytes, `proto` a list, the
 * address `address-data`), so every key is listed: an unknown one is a bug, refused loudly.
 */
const KEYS: Record<string, Record<string, { name: string; signature: string; encode(value: Value): unknown }>> = {
  connection: {
    id: text('id'),
    uuid: text('uuid'),
    type: text('type'),
    'interface-name': text('interface-name'),
    autoconnect: { name: 'autoconnect', signature: 'b', encode: Boolean },
  },
  '802-11-wireless': {
    mode: text('mode'),
    ssid: { name: 'ssid', signature: 'ay', encode: (v) => Buffer.from(String(v), 'utf8') },
    band: text('band'),
    channel: { name: 'channel', signature: 'u', encode: Number },
  },
  '802-11-wireless-security': {
    'key-mgmt': text('key-mgmt'),
    proto: list('proto'),
    pairwise: list('pairwise'),
    psk: text('psk'),
  },
  ipv4: {
    method: text('method'),
    address1: {
      name: 'address-data',
      signature: 'aa{sv}',
      encode: (v) => {
        const [address, prefix] = String(v).split('/');
        return [{ address: new Variant('s', address), prefix: new Variant('u', Number(prefix)) }];
      },
    },
  },
  ipv6: { method: text('method') },
  gsm: { apn: text('apn'), username: text('username'), password: text('password') },
};

function text(name: string) {
  return { name, signature: 's', encode: String };
}

function list(name: string) {
  return { name, signature: 'as', encode: (v: Value) => String(v).split(/[;,]/).filter(Boolean) };
}

/** Settings NetworkManager keeps as secrets: `GetSettings` leaves them out, `GetSecrets` gives them. */
export const SECRET_KEYS: Record<string, readonly string[]> = {
  '802-11-wireless-security': ['psk'],
  gsm: ['password'],
};

/** The kiosk's connection in D-Bus form, for `AddConnection` / `Update`. */
export function toDbus(connection: ConnectionSettings): DbusConnection {
  return Object.fromEntries(
    Object.entries(connection).map(([setting, values]) => [
      setting,
      Object.fromEntries(
        Object.entries(values).map(([key, value]) => {
          const spec = KEYS[setting]?.[key];
          if (!spec) throw new Error(`no D-Bus mapping for ${setting}.${key}`);
          return [spec.name, new Variant(spec.signature, spec.encode(value))];
        }),
      ),
    ]),
  );
}

/** A D-Bus value as comparable plain data (bytes as text, variants unwrapped). */
export function plain(value: unknown): unknown {
  if (value instanceof Variant) return plain(value.value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'bigint') return Number(value);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}
