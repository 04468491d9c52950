import { createHash } from 'node:crypto';
import * as z from 'zod';

/**
 * The kiosk's networks as NetworkManager connection settings, from device variables: a WiFi
 * access point for the dispensers (the broker listens there), one for people (the technicians'
 * UI), and the 4G data link (a `gsm` connection ModemManager brings up with the APN). The
 * settings are what NetworkManager's D-Bus `AddConnection` takes and what its keyfiles hold.
 */
const Passphrase = z.string().min(8, 'WPA2 needs 8 to 63 characters').max(63, 'WPA2 needs 8 to 63 characters');
const Ipv4Cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/([89]|[12]\d|30)$/, 'an IPv4 address with its prefix, e.g. 10.42.0.1/24');

const KioskNetworkEnv = z.object({
  NET_DISPENSER_SSID: z.string().min(1).max(32),
  NET_DISPENSER_PASSPHRASE: Passphrase,
  NET_DISPENSER_INTERFACE: z.string().min(1).default('wlan0'),
  /** 2.4 GHz (`bg`) reaches the ESP32 dispensers; they have no 5 GHz radio. */
  NET_DISPENSER_CHANNEL: z.coerce.number().int().min(1).max(13).default(6),
  NET_DISPENSER_ADDRESS: Ipv4Cidr.default('10.42.0.1/24'),
  NET_PUBLIC_SSID: z.string().min(1).max(32).optional(),
  NET_PUBLIC_PASSPHRASE: Passphrase.optional(),
  NET_PUBLIC_INTERFACE: z.string().min(1).default('wlan1'),
  NET_PUBLIC_BAND: z.enum(['bg', 'a']).default('bg'),
  NET_PUBLIC_CHANNEL: z.coerce.number().int().min(1).max(165).default(11),
  NET_PUBLIC_ADDRESS: Ipv4Cidr.default('10.43.0.1/24'),
  /** The SIM's access point name; unset: no 4G connection is configured. */
  NET_APN: z.string().min(1).max(100).optional(),
  NET_APN_USER: z.string().min(1).optional(),
  NET_APN_PASSWORD: z.string().min(1).optional(),
});

/** The connection ids (NetworkManager's `connection.id`) of the dispensers' and the people's access points. */
export const DISPENSER_NETWORK = 'tusafishe-dispensers';
export const PUBLIC_NETWORK = 'tusafishe-public';

/** One connection: setting name → key → value, as NetworkManager names them. */
export type ConnectionSettings = Record<string, Record<string, string | number | boolean>>;

/** The same id always gets the same UUID, so applying the settings again updates, never duplicates. */
function connectionUuid(id: string): string {
  const hex = createHash('sha1').update(`tusafishe-network:${id}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function accessPoint(
  id: string,
  ap: { ssid: string; passphrase: string | undefined; iface: string; band: string; channel: number; address: string },
): ConnectionSettings {
  return {
    connection: {
      id,
      uuid: connectionUuid(id),
      type: '802-11-wireless',
      'interface-name': ap.iface,
      autoconnect: true,
    },
    '802-11-wireless': { mode: 'ap', ssid: ap.ssid, band: ap.band, channel: ap.channel },
    ...(ap.passphrase
      ? { '802-11-wireless-security': { 'key-mgmt': 'wpa-psk', proto: 'rsn', pairwise: 'ccmp', psk: ap.passphrase } }
      : {}),
    // `shared`: NetworkManager runs DHCP (dnsmasq) for the clients on this address.
    ipv4: { method: 'shared', address1: ap.address },
    ipv6: { method: 'ignore' },
  };
}

/** The connections the kiosk needs, from its device variables (validated; throws a ZodError naming each bad one). */
export function kioskConnections(input: NodeJS.ProcessEnv): ConnectionSettings[] {
  const env = KioskNetworkEnv.parse(input);
  const connections = [
    accessPoint(DISPENSER_NETWORK, {
      ssid: env.NET_DISPENSER_SSID,
      passphrase: env.NET_DISPENSER_PASSPHRASE,
      iface: env.NET_DISPENSER_INTERFACE,
      band: 'bg',
      channel: env.NET_DISPENSER_CHANNEL,
      address: env.NET_DISPENSER_ADDRESS,
    }),
  ];
  if (env.NET_PUBLIC_SSID) {
    connections.push(
      accessPoint(PUBLIC_NETWORK, {
        ssid: env.NET_PUBLIC_SSID,
        passphrase: env.NET_PUBLIC_PASSPHRASE,
        iface: env.NET_PUBLIC_INTERFACE,
        band: env.NET_PUBLIC_BAND,
        channel: env.NET_PUBLIC_CHANNEL,
        address: env.NET_PUBLIC_ADDRESS,
      }),
    );
  }
  if (env.NET_APN) {
    connections.push({
      connection: { id: 'tusafishe-4g', uuid: connectionUuid('tusafishe-4g'), type: 'gsm', autoconnect: true },
      gsm: {
        apn: env.NET_APN,
        ...(env.NET_APN_USER ? { username: env.NET_APN_USER } : {}),
        ...(env.NET_APN_PASSWORD ? { password: env.NET_APN_PASSWORD } : {}),
      },
      ipv4: { method: 'auto' },
      ipv6: { method: 'ignore' },
    });
  }
  return connections;
}

/** The address the gateway's listeners bind on a network (the AP's own address, without prefix). */
export function listenAddress(connection: ConnectionSettings): string | undefined {
  const address = connection['ipv4']?.['address1'];
  return typeof address === 'string' ? address.split('/')[0] : undefined;
}

/** A NetworkManager keyfile (`/etc/NetworkManager/system-connections/<id>.nmconnection`, mode 0600). */
export function toKeyfile(connection: ConnectionSettings): string {
  const groups: Record<string, string> = { '802-11-wireless': 'wifi', '802-11-wireless-security': 'wifi-security' };
  return Object.entries(connection)
    .map(([setting, values]) => {
      const lines = Object.entries(values).map(([key, value]) => `${key}=${String(value)}`);
      return `[${groups[setting] ?? setting}]\n${lines.join('\n')}\n`;
    })
    .join('\n');
}
