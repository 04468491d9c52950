import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kioskConnections, listenAddress, toKeyfile } from './kiosk-networks.js';

const FIELD = {
  NET_DISPENSER_SSID: 'TS-K1-DISP',
  NET_DISPENSER_PASSPHRASE: 'dispensers-only-1',
  NET_PUBLIC_SSID: 'Tusafishe Kiosk',
  NET_PUBLIC_PASSPHRASE: 'technicians-2026',
  NET_PUBLIC_BAND: 'a',
  NET_PUBLIC_CHANNEL: '36',
  NET_APN: 'internet.mtn',
};

/** NetworkManager's own reading of a keyfile: `nmcli --offline` parses it from stdin and prints it back. */
function nmcliReads(keyfile: string): string {
  return execFileSync('nmcli', ['--offline', 'connection', 'modify', 'connection.autoconnect', 'yes'], {
    input: keyfile,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

describe('kiosk networks as NetworkManager connections', () => {
  it('gives both access points and the 4G link, which NetworkManager accepts as keyfiles', () => {
    const connections = kioskConnections(FIELD);
    expect(connections.map((c) => c['connection']!['id'])).toEqual([
      'tusafishe-dispensers',
      'tusafishe-public',
      'tusafishe-4g',
    ]);
    const [dispensers, people, lte] = connections.map((c) => nmcliReads(toKeyfile(c)));
    expect(dispensers).toMatch(/^mode=ap$/m);
    expect(dispensers).toMatch(/^ssid=TS-K1-DISP$/m);
    expect(dispensers).toMatch(/^band=bg$/m);
    expect(dispensers).toMatch(/^key-mgmt=wpa-psk$/m);
    expect(dispensers).toMatch(/^method=shared$/m);
    expect(people).toMatch(/^band=a$/m);
    expect(people).toMatch(/^channel=36$/m);
    expect(lte).toMatch(/^apn=internet\.mtn$/m);
    // The broker binds the dispensers' AP, the UI the people's.
    expect(connections.map(listenAddress)).toEqual(['10.42.0.1', '10.43.0.1', undefined]);
  });

  it('keeps the same UUIDs from one apply to the next, so connections are updated, not added', () => {
    const ids = (env: NodeJS.ProcessEnv) => kioskConnections(env).map((c) => c['connection']!['uuid']);
    expect(ids({ ...FIELD, NET_DISPENSER_SSID: 'renamed' })).toEqual(ids(FIELD));
  });

  it('refuses a passphrase WPA2 cannot take, naming the variable', () => {
    expect(() => kioskConnections({ ...FIELD, NET_DISPENSER_PASSPHRASE: 'short' })).toThrow(/NET_DISPENSER_PASSPHRASE/);
  });

  it('NetworkManager itself refuses a keyfile that breaks its rules', () => {
    const [dispensers] = kioskConnections(FIELD);
    const broken = toKeyfile(dispensers!).replace('mode=ap', 'mode=bogus');
    expect(() => nmcliReads(broken)).toThrow();
  });
});
