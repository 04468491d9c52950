import { describe, expect, it } from 'vitest';
import { readConfig } from './config.js';

describe('gateway config', () => {
  it('has working defaults', () => {
    expect(readConfig({})).toMatchObject({
      dataDir: './data',
      kioskId: 'K1',
      mqttPort: 1883,
      httpPort: 8080,
      host: '0.0.0.0',
      seedDemo: false,
      settings: {},
    });
  });

  it('reads settings in their documented units', () => {
    expect(
      readConfig({
        PIN_LOCKOUT_MINUTES: '30',
        HOLD_MARGIN_S: '10',
        OFFLINE_DAILY_LIMIT_ML: '5000',
        REFUSED_COMPLETIONS_PER_DISPENSER: '50',
      }).settings,
    ).toEqual({
      pinLockoutMs: 1_800_000,
      holdMarginMs: 10_000,
      offlineDailyLimitMl: 5000,
      refusedCompletionsPerDispenser: 50,
    });
  });

  it('serves the legacy endpoint only when configured, and never open in production', () => {
    expect(readConfig({}).legacyVerification).toBeUndefined();
    expect(readConfig({ LEGACY_VERIFICATION_OPEN: 'true' }).legacyVerification).toEqual({ open: true });
    expect(readConfig({ LEGACY_VERIFICATION_ALLOW: '10.0.0.5, 10.0.0.6' }).legacyVerification).toEqual({
      allow: ['10.0.0.5', '10.0.0.6'],
    });
    expect(() => readConfig({ NODE_ENV: 'production', LEGACY_VERIFICATION_OPEN: 'true' })).toThrow(
      /LEGACY_VERIFICATION_OPEN/,
    );
  });

  it('seeds demo data only when asked, and never in production', () => {
    expect(readConfig({ SEED_DEMO: 'true' }).seedDemo).toBe(true);
    expect(() => readConfig({ NODE_ENV: 'production', SEED_DEMO: 'true' })).toThrow(
      /SEED_DEMO.*demo data cannot be seeded in production|demo data cannot be seeded in production/s,
    );
    expect(() => readConfig({ NODE_ENV: 'production', TECHNICIAN_PASSWORD: 'tusafishe-demo' })).toThrow(
      /TECHNICIAN_PASSWORD/,
    );
    expect(readConfig({ NODE_ENV: 'production', TECHNICIAN_PASSWORD: 'a-real-long-password' }).seedDemo).toBe(false);
  });

  it("manages no network unless the dispensers' WiFi is configured; then binds each access point", () => {
    expect(readConfig({}).networks).toBeUndefined();
    const kiosk = {
      NET_DISPENSER_SSID: 'TS-K1-DISP',
      NET_DISPENSER_PASSPHRASE: 'dispensers-only-1',
      DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/host/run/dbus/system_bus_socket',
    };
    // Without the people's AP, HTTP stays on GATEWAY_HOST.
    expect(readConfig(kiosk)).toMatchObject({
      mqttHost: '10.42.0.1',
      httpHost: '0.0.0.0',
      networks: { busAddress: 'unix:path=/host/run/dbus/system_bus_socket' },
    });
    const both = { ...kiosk, NET_PUBLIC_SSID: 'Tusafishe', NET_PUBLIC_ADDRESS: '192.168.50.1/24' };
    expect(readConfig(both)).toMatchObject({ mqttHost: '10.42.0.1', httpHost: '192.168.50.1' });
    expect(readConfig({ ...both, GATEWAY_MQTT_HOST: '127.0.0.1' }).mqttHost).toBe('127.0.0.1');
    expect(readConfig(both).networks?.connections).toHaveLength(2);
    expect(() => readConfig({ ...kiosk, NET_DISPENSER_PASSPHRASE: 'short' })).toThrow(/NET_DISPENSER_PASSPHRASE/);
  });

  it('binds MQTT and HTTP to their own networks, all interfaces by default, and reads the TLS directory', () => {
    expect(readConfig({})).toMatchObject({ mqttHost: '0.0.0.0', httpHost: '0.0.0.0', tls: undefined });
    expect(
      readConfig({ GATEWAY_MQTT_HOST: '10.43.0.1', GATEWAY_HTTP_HOST: '10.42.0.1', GATEWAY_TLS_DIR: '/data/tls' }),
    ).toMatchObject({ mqttHost: '10.43.0.1', httpHost: '10.42.0.1', tls: { dir: '/data/tls', mqttsPort: 8883 } });
  });

  it('names the variable that is wrong', () => {
    expect(() => readConfig({ GATEWAY_MQTT_PORT: 'abc' })).toThrow(/GATEWAY_MQTT_PORT/);
    expect(() => readConfig({ KIOSK_ID: 'no spaces' })).toThrow(/KIOSK_ID/);
  });
});
