import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateReleaseKey, signFirmware } from '@tusafishe/protocol/signed-firmware';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshPglite, signInAs } from '@tusafishe/cloud/testing';
import { startFleet, type Fleet } from '../src/fleet.js';

/** The test fleet's release key: the cloud, the gateways and the simulated dispensers trust it. */
const RELEASE = generateReleaseKey();
const NEW_VERSION = 'tusafishe-fw/9.9.0-fleet';
const OFFLINE_AFTER_MS = 4_000;

interface KioskRow {
  kiosk_id: string;
  online: boolean;
  tank_level_pct: number | null;
  dispensers: { dispenser_id: string; firmware: string | null }[] | null;
}

/**
 * The operations console's fleet side against real gateway processes (issue 12): a kiosk alert
 * reaches the cloud by the next status reports, a fleet firmware rollout updates the dispensers of two kiosks,
 * and a stopped gateway shows offline and raises the alert after the (short) setting.
 */
describe('console fleet: alerts, firmware rollout, offline kiosks', () => {
  let dir: string;
  let fleet: Fleet;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'console-fleet-'));
    fleet = await startFleet({
      dir,
      kioskIds: ['K1', 'K2'],
      dispenserIds: ['D1', 'D2'],
      flowRateMlPerSecond: 4000,
      releasePublicKey: RELEASE.publicKey,
      gatewayEnv: {
        GATEWAY_BACKUP_INTERVAL_HOURS: '0',
        SYNC_LONG_POLL_S: '1',
        SYNC_STATUS_INTERVAL_S: '1',
        FIRMWARE_PUBLIC_KEY: RELEASE.publicKey,
        // A simulated tank whose feed pump never runs: it drains and raises `tank_low` within seconds.
        HW_MODE: 'simulated',
        HW_PUMP_ON_BELOW_PCT: '0',
        HW_PUMP_OFF_ABOVE_PCT: '1',
        HW_SIM_TICK_MS: '200',
        HW_SIM_SPEED: '40',
      },
      cloud: {
        ...freshPglite(),
        fleet: { kioskOfflineAfterMs: OFFLINE_AFTER_MS, rulesIntervalMs: 500, firmwarePublicKey: RELEASE.publicKey },
      },
    });
  }, 240_000);
  afterAll(async () => {
    await fleet?.close();
    if (dir && !process.env['FLEET_KEEP']) await rm(dir, { recursive: true, force: true });
  });

  const kiosks = () =>
    fleet.cloud.db.query<KioskRow>(
      `SELECT k.kiosk_id, k.last_contact_at >= now() - make_interval(secs => $1) AS online, s.tank_level_pct, s.dispensers
         FROM kiosks k LEFT JOIN kiosk_status s USING (kiosk_id) ORDER BY k.kiosk_id`,
      [OFFLINE_AFTER_MS / 1000],
    );

  it('has the tank-low alert a gateway raised, soon, with the kiosk status', async () => {
    const alert = await vi.waitFor(
      async () => {
        const [row] = await fleet.cloud.db.query<{ raised_at: Date; arrived_at: Date; severity: string }>(
          `SELECT raised_at, updated_at AS arrived_at, severity FROM alerts WHERE kiosk_id = 'K1' AND rule = 'tank_low'`,
        );
        if (!row) throw new Error('no tank_low alert from K1 yet');
        return row;
      },
      { timeout: 90_000, interval: 200 },
    );
    expect(alert.severity).toBe('critical');
    // Raised on the gateway (its clock, this machine's) → stored in the cloud by the next status
    // reports, a second apart here: seconds on a quiet machine, but a loaded one stretches that,
    // so the bound is generous (5 s would fail at random).
    const tookMs = new Date(alert.arrived_at).getTime() - new Date(alert.raised_at).getTime();
    expect(tookMs).toBeGreaterThanOrEqual(0);
    expect(tookMs).toBeLessThan(60_000);
    // In the console, as an operator sees it.
    const field = await signInAs(fleet.cloud, 'field');
    const { alerts } = await field.json<{ alerts: { rule: string; severity: string }[] }>('GET', '/alerts?kiosk=K1');
    expect(alerts).toContainEqual(expect.objectContaining({ rule: 'tank_low', severity: 'critical' }));
    const [k1] = await kiosks();
    expect(k1).toMatchObject({ kiosk_id: 'K1', online: true });
    expect(k1?.dispensers?.map((d) => d.dispenser_id)).toEqual(expect.arrayContaining(['D1', 'D2']));
  });

  it('rolls signed firmware out to the dispensers of two kiosks, one at a time, and reports it done', async () => {
    const signed = signFirmware(
      Buffer.from('fleet image '.repeat(500)),
      { version: NEW_VERSION, counter: 9 },
      RELEASE.privateKeyPem,
    );
    await fleet.cloud.fleet.firmware.addImage(signed.file, 'field-op');
    const rollout = await fleet.cloud.fleet.firmware.start({ version: NEW_VERSION, kioskIds: null }, 'field-op');
    await vi.waitFor(
      async () => {
        const view = await fleet.cloud.fleet.firmware.get(rollout.rollout_id);
        expect(view.kiosks.map((k) => [k.kiosk_id, k.state])).toEqual([
          ['K1', 'done'],
          ['K2', 'done'],
        ]);
      },
      { timeout: 120_000, interval: 500 },
    );
    // The two simulated dispensers of each kiosk run it; the demo's other dispensers never came online.
    const view = await fleet.cloud.fleet.firmware.get(rollout.rollout_id);
    for (const kiosk of view.kiosks) {
      const states = Object.fromEntries(kiosk.dispensers.map((d) => [d.dispenser_id, d.state]));
      expect(states).toMatchObject({ D1: 'confirmed', D2: 'confirmed', D3: 'waiting' });
    }
    // As the dispensers themselves report it after rebooting into it.
    await vi.waitFor(
      async () => {
        for (const kiosk of await kiosks()) {
          const running = kiosk.dispensers?.filter((d) => d.firmware === NEW_VERSION).map((d) => d.dispenser_id);
          expect(running).toEqual(['D1', 'D2']);
        }
      },
      { timeout: 10_000, interval: 500 },
    );
  });

  it('shows a stopped gateway offline and raises kiosk_offline after the setting', async () => {
    await fleet.kiosks[1]!.gateway.stop();
    await vi.waitFor(
      async () => {
        const open = await fleet.cloud.db.query<{ kiosk_id: string }>(
          `SELECT kiosk_id FROM alerts WHERE rule = 'kiosk_offline' AND cleared_at IS NULL`,
        );
        expect(open).toEqual([{ kiosk_id: 'K2' }]);
      },
      { timeout: 60_000, interval: 250 },
    );
    // K1 keeps in contact: it shows online again at its next pull even if a loaded machine stalled it.
    await vi.waitFor(
      async () => {
        const rows = await kiosks();
        expect(rows.map((k) => [k.kiosk_id, k.online])).toEqual([
          ['K1', true],
          ['K2', false],
        ]);
      },
      { timeout: 30_000, interval: 250 },
    );
  });
});
