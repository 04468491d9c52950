import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionSettings, kioskConnections } from './kiosk-networks.js';
import { NetworkManagerClient } from './network-manager.js';
import { NetworkManagerSimulator } from './network-manager-simulator.js';
import { setUpKioskNetworks } from './kiosk-network-setup.js';
import pino from 'pino';

const FIELD = {
  NET_DISPENSER_SSID: 'TS-K1-DISP',
  NET_DISPENSER_PASSPHRASE: 'dispensers-only-1',
  NET_PUBLIC_SSID: 'Tusafishe Kiosk',
  NET_PUBLIC_PASSPHRASE: 'technicians-2026',
  NET_PUBLIC_BAND: 'a',
  NET_PUBLIC_CHANNEL: '36',
  NET_APN: 'internet.mtn',
  NET_APN_USER: 'mtn',
  NET_APN_PASSWORD: 'mtn-secret',
};

/** A real D-Bus daemon (Debian's dbus-daemon) on a socket in a temp dir; its address. */
async function startBus(dir: string, name = 'bus'): Promise<{ address: string; daemon: ChildProcess }> {
  const daemon = spawn(
    'dbus-daemon',
    ['--session', '--nofork', '--print-address=1', `--address=unix:path=${join(dir, name)}`],
    // stderr: it warns that it may not raise its fd limit, which a test bus does not need.
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const [line] = (await once(daemon.stdout!, 'data')) as [Buffer];
  return { address: line.toString().trim(), daemon };
}

describe('kiosk networks applied to NetworkManager over D-Bus', () => {
  let dir: string;
  let bus: { address: string; daemon: ChildProcess };
  let nm: NetworkManagerSimulator | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiosk-dbus-'));
    bus = await startBus(dir);
  });
  afterEach(() => {
    nm?.close();
    nm = undefined;
  });
  afterAll(async () => {
    bus.daemon.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const apply = (env: NodeJS.ProcessEnv) =>
    NetworkManagerClient.with(bus.address, (client) => client.apply(kioskConnections(env)));

  it('adds both access points and the 4G link with the settings NetworkManager takes, and activates them', async () => {
    nm = await NetworkManagerSimulator.start(bus.address);
    expect(await apply(FIELD)).toEqual([
      { id: 'tusafishe-dispensers', action: 'added', activated: true },
      { id: 'tusafishe-public', action: 'added', activated: true },
      { id: 'tusafishe-4g', action: 'added', activated: true },
    ]);
    const [dispensers, people, lte] = nm.callsOf('AddConnection').map((c) => c.args[0]);
    expect(dispensers).toEqual({
      connection: {
        id: 'tusafishe-dispensers',
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: '802-11-wireless',
        'interface-name': 'wlan0',
        autoconnect: true,
      },
      '802-11-wireless': { mode: 'ap', ssid: 'TS-K1-DISP', band: 'bg', channel: 6 },
      '802-11-wireless-security': {
        'key-mgmt': 'wpa-psk',
        proto: ['rsn'],
        pairwise: ['ccmp'],
        psk: 'dispensers-only-1',
      },
      ipv4: { method: 'shared', 'address-data': [{ address: '10.42.0.1', prefix: 24 }] },
      ipv6: { method: 'ignore' },
    });
    expect(people).toMatchObject({
      connection: { id: 'tusafishe-public', 'interface-name': 'wlan1' },
      '802-11-wireless': { mode: 'ap', ssid: 'Tusafishe Kiosk', band: 'a', channel: 36 },
      '802-11-wireless-security': { psk: 'technicians-2026' },
      ipv4: { method: 'shared', 'address-data': [{ address: '10.43.0.1', prefix: 24 }] },
    });
    expect(lte).toEqual({
      connection: { id: 'tusafishe-4g', uuid: expect.any(String), type: 'gsm', autoconnect: true },
      gsm: { apn: 'internet.mtn', username: 'mtn', password: 'mtn-secret' },
      ipv4: { method: 'auto' },
      ipv6: { method: 'ignore' },
    });
    // The SSID travels as bytes (`ay`), as NetworkManager requires.
    const raw = nm.stored.values().next().value!;
    expect(Buffer.isBuffer(raw['802-11-wireless']!['ssid']!.value)).toBe(true);
    expect(nm.activeUuids()).toHaveLength(3);
  });

  it('changes nothing when applied again, and updates and re-activates only what changed', async () => {
    nm = await NetworkManagerSimulator.start(bus.address);
    await apply(FIELD);
    nm.calls.length = 0;

    expect((await apply(FIELD)).map((o) => o.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(nm.callsOf('AddConnection')).toEqual([]);
    expect(nm.callsOf('Update')).toEqual([]);
    expect(nm.callsOf('ActivateConnection')).toEqual([]);

    // A new passphrase is a secret NetworkManager does not show in GetSettings: still seen, still applied.
    const changed = await apply({ ...FIELD, NET_DISPENSER_PASSPHRASE: 'new-dispenser-pass' });
    expect(changed[0]).toEqual({ id: 'tusafishe-dispensers', action: 'updated', activated: true });
    expect(changed.slice(1).map((o) => o.action)).toEqual(['unchanged', 'unchanged']);
    expect(nm.callsOf('Update').map((c) => c.args[0])).toEqual([
      expect.objectContaining({ '802-11-wireless-security': expect.objectContaining({ psk: 'new-dispenser-pass' }) }),
    ]);
    expect(nm.callsOf('ActivateConnection')).toHaveLength(1);
    expect(nm.stored.size).toBe(3);
  });

  it('updates a connection a technician made by hand under the same name, keeping its UUID', async () => {
    nm = await NetworkManagerSimulator.start(bus.address);
    const [dispensers] = kioskConnections(FIELD);
    const byHand = {
      ...dispensers!,
      connection: { ...dispensers!['connection']!, uuid: '0b3c1f4e-5a1d-4c1e-9d7a-2f0e8b6c4d21' },
      '802-11-wireless': { ...dispensers!['802-11-wireless']!, ssid: 'old-name' },
    };
    await NetworkManagerClient.with(bus.address, (client) => client.apply([byHand]));
    expect((await apply(FIELD))[0]).toEqual({ id: 'tusafishe-dispensers', action: 'updated', activated: true });
    expect(nm.stored.size).toBe(3);
    expect(nm.callsOf('Update')[0]!.args[0]).toMatchObject({
      connection: { uuid: '0b3c1f4e-5a1d-4c1e-9d7a-2f0e8b6c4d21' },
      '802-11-wireless': { ssid: 'TS-K1-DISP' },
    });
  });

  it('reports what NetworkManager refuses or cannot activate, and still applies the rest', async () => {
    nm = await NetworkManagerSimulator.start(bus.address, { interfaces: ['wlan0'] });
    const [dispensers, people, lte] = kioskConnections(FIELD);
    const noSsid = {
      ...dispensers!,
      '802-11-wireless': Object.fromEntries(
        Object.entries(dispensers!['802-11-wireless']!).filter(([key]) => key !== 'ssid'),
      ),
    };
    const shortPsk: ConnectionSettings = {
      connection: {
        id: 'short-psk',
        uuid: 'f0e1d2c3-b4a5-4968-8776-655443322110',
        type: '802-11-wireless',
        'interface-name': 'wlan0',
      },
      '802-11-wireless': { mode: 'ap', ssid: 'x', band: 'bg', channel: 1 },
      '802-11-wireless-security': { 'key-mgmt': 'wpa-psk', psk: 'short' },
    };
    const outcomes = await NetworkManagerClient.with(bus.address, (client) =>
      client.apply([noSsid, shortPsk, people!, lte!]),
    );
    expect(outcomes).toEqual([
      { id: 'tusafishe-dispensers', activated: false, error: '802-11-wireless.ssid: property is missing' },
      { id: 'short-psk', activated: false, error: '802-11-wireless-security.psk: property is invalid' },
      {
        id: 'tusafishe-public',
        action: 'added',
        activated: false,
        error: expect.stringMatching(/^not activated: No suitable device found.*wlan1/),
      },
      { id: 'tusafishe-4g', action: 'added', activated: true },
    ]);
  });

  it('rejects, rather than hangs, when no bus answers at the address', async () => {
    await expect(
      NetworkManagerClient.with(`unix:path=${join(dir, 'no-bus')}`, (client) => client.apply(kioskConnections(FIELD))),
    ).rejects.toThrow(/ENOENT/);
  });

  describe('at gateway start (setUpKioskNetworks)', () => {
    const setUp = (overrides: Partial<Parameters<typeof setUpKioskNetworks>[0]> = {}) =>
      setUpKioskNetworks({
        connections: kioskConnections(FIELD),
        busAddress: bus.address,
        mqttHost: '10.42.0.1',
        httpHost: '10.43.0.1',
        fallbackHost: '0.0.0.0',
        logger: pino({ level: 'silent' }),
        // As if the access points were up; the last test binds for real.
        canBind: async (host) => ['10.42.0.1', '10.43.0.1'].includes(host),
        ...overrides,
      });

    it('binds the access points once they are up, with nothing to alert', async () => {
      nm = await NetworkManagerSimulator.start(bus.address);
      const networks = await setUp();
      expect(networks).toMatchObject({ mqttHost: '10.42.0.1', httpHost: '10.43.0.1' });
      expect(networks.conditions()).toEqual([]);
      networks.close();
    });

    it('alerts a connection NetworkManager could not bring up, and an unreachable bus until it answers', async () => {
      nm = await NetworkManagerSimulator.start(bus.address, { interfaces: ['wlan0'] });
      const partial = await setUp({ retryMs: 60_000 });
      expect(partial.conditions()).toEqual([
        expect.objectContaining({ key: 'network:tusafishe-public', severity: 'warning' }),
      ]);
      partial.close();
      nm.close();
      nm = undefined;

      const noBus = `unix:path=${join(dir, 'late-bus')}`;
      const networks = await setUp({ busAddress: noBus, retryMs: 50 });
      expect(networks.conditions()).toEqual([
        expect.objectContaining({ key: 'network:dbus', severity: 'critical', message: expect.stringMatching(/D-Bus/) }),
      ]);
      // NetworkManager comes up later (here: a bus at that address): the retry applies and clears the alert.
      const late = await startBus(dir, 'late-bus');
      try {
        nm = await NetworkManagerSimulator.start(late.address);
        await expect.poll(() => networks.conditions(), { timeout: 15_000 }).toEqual([]);
        expect(nm.activeUuids()).toHaveLength(3);
      } finally {
        networks.close();
        nm?.close();
        nm = undefined;
        late.daemon.kill();
      }
    });

    it('listens on all interfaces, alerting, when an access point address never appears', async () => {
      nm = await NetworkManagerSimulator.start(bus.address);
      // 10.42.0.1 is no address of this machine: listening on it fails, as on a kiosk whose AP did not come up.
      const networks = await setUp({ httpHost: '127.0.0.1', canBind: undefined, addressWaitMs: 0 });
      expect(networks).toMatchObject({ mqttHost: '0.0.0.0', httpHost: '127.0.0.1' });
      expect(networks.conditions()).toEqual([
        expect.objectContaining({ key: 'network_address:10.42.0.1', severity: 'critical' }),
      ]);
      networks.close();
    });
  });
});
