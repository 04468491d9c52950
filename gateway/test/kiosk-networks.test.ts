import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkManagerSimulator } from '../src/network/network-manager-simulator.js';
import { type GatewayProcess, spawnGateway } from './fixtures.js';

/**
 * The gateway process as a kiosk runs it: device variables name the networks, it applies them to
 * "NetworkManager" on the bus in DBUS_SYSTEM_BUS_ADDRESS (a real dbus-daemon, the simulator on it),
 * then the broker binds the dispensers' AP address and HTTP the people's — here 127.0.0.2 and
 * 127.0.0.1, loopback addresses standing for the two access points.
 */
describe('a kiosk gateway brings up its networks, then listens on them', () => {
  let dir: string;
  let daemon: ChildProcess;
  let nm: NetworkManagerSimulator;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiosk-net-'));
    daemon = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1', `--address=unix:path=${dir}/bus`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const address = String(((await once(daemon.stdout!, 'data')) as [Buffer])[0]).trim();
    nm = await NetworkManagerSimulator.start(address);
    gateway = await spawnGateway(join(dir, 'data'), {
      DBUS_SYSTEM_BUS_ADDRESS: address,
      NET_DISPENSER_SSID: 'TS-K1-DISP',
      NET_DISPENSER_PASSPHRASE: 'dispensers-only-1',
      NET_DISPENSER_ADDRESS: '127.0.0.2/8',
      NET_PUBLIC_SSID: 'Tusafishe Kiosk',
      NET_PUBLIC_PASSPHRASE: 'technicians-2026',
      NET_PUBLIC_ADDRESS: '127.0.0.1/8',
      NET_APN: 'internet.mtn',
    });
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    nm?.close();
    daemon?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('applied both access points and the 4G link before listening', () => {
    expect(nm.callsOf('AddConnection').map((c) => (c.args[0] as { connection: { id: string } }).connection.id)).toEqual(
      ['tusafishe-dispensers', 'tusafishe-public', 'tusafishe-4g'],
    );
    expect(nm.activeUuids()).toHaveLength(3);
  });

  it("takes dispensers on their AP address only, and serves HTTP on the people's only", async () => {
    const connect = (host: string) =>
      mqtt.connectAsync(`mqtt://${host}:${gateway.mqttPort}`, {
        clientId: 'D1',
        username: 'D1',
        password: gateway.demo!.dispensers.find((d) => d.id === 'D1')!.password,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
    const client = await connect('127.0.0.2');
    await client.endAsync();
    await expect(connect('127.0.0.1')).rejects.toThrow();
    expect((await fetch(`http://127.0.0.1:${gateway.httpPort}/health`)).status).toBe(200);
    await expect(fetch(`http://127.0.0.2:${gateway.httpPort}/health`)).rejects.toThrow();
  });
});
