import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { firmwarePath, newId, type KioskStatusReport, type LedgerEvent } from '@tusafishe/protocol';
import { generateReleaseKey, signFirmware } from '@tusafishe/protocol/signed-firmware';
import type { RunningCloud } from '../src/cloud.js';
import { recordAdjustment } from '../src/admin/adjustments.js';
import { createCustomer } from '../src/customers/customers.js';
import { acknowledgeAlert, listAlerts } from '../src/fleet/alerts.js';
import { kioskDetail, listKiosks } from '../src/fleet/kiosk-views.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { readOutbox } from '../src/sms/sender.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { signInAs, type ConsoleSession } from './console-session.js';
import { dispenseEvent, kioskClient } from './kiosk-client.js';

const HOUR = 3_600_000;
const ON_CALL = '+254711000999';
const RELEASE = generateReleaseKey();

function report(change: Partial<KioskStatusReport> = {}): KioskStatusReport {
  return {
    at: Date.now(),
    gateway_version: '0.1.0',
    events_waiting: 3,
    dispensers: [
      { dispenser_id: 'D1', online: true, firmware: 'fw/1', last_seen_at: Date.now() },
      { dispenser_id: 'D2', online: false, firmware: 'fw/1', last_seen_at: Date.now() - 2 * HOUR },
    ],
    tank_level_pct: 64,
    water_quality: 'ok',
    auth_counts: [],
    ...change,
  };
}

function tankLow(kioskId: string, occurrence: string, type: 'alert_raised' | 'alert_cleared'): LedgerEvent {
  return {
    event_id: newId(),
    type,
    amount_ml: 0,
    kiosk_id: kioskId,
    source_id: occurrence,
    occurred_at: Date.now(),
    details: { alert: 'tank_low', severity: 'critical', message: 'Tank low: 8% (low mark 15%)' },
  };
}

describe.each(backends())('fleet monitoring on $name', (backend) => {
  let cloud: RunningCloud;
  let k1: KioskCredential;
  let k2: KioskCredential;
  let field: ConsoleSession;
  let finance: ConsoleSession;
  let support: ConsoleSession;

  beforeAll(async () => {
    cloud = await startTestCloud(backend, {
      fleet: {
        rulesIntervalMs: 0,
        kioskOfflineAfterMs: 60_000,
        dispenserOfflineAfterMs: 60_000,
        onCallPhones: [ON_CALL],
        firmwarePublicKey: RELEASE.publicKey,
      },
    });
    k1 = await createKiosk(cloud.db, { kioskId: 'FM-K1' });
    k2 = await createKiosk(cloud.db, { kioskId: 'FM-K2' });
    [field, finance, support] = await Promise.all([
      signInAs(cloud, 'field'),
      signInAs(cloud, 'finance'),
      signInAs(cloud, 'customer_service'),
    ]);
  });
  afterAll(() => stopTestCloud(cloud, backend));

  it('records contact, status and hourly counts; a re-sent hour replaces its count', async () => {
    const client = kioskClient(cloud.url, k1);
    expect((await client.pull()).status).toBe(200);
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    const counts = [
      { hour, outcome: 'approved', count: 5 },
      { hour, outcome: 'WRONG_PIN', count: 2 },
    ];
    expect((await client.status(report({ auth_counts: counts }))).status).toBe(200);
    const again = await client.status(report({ auth_counts: [{ hour, outcome: 'WRONG_PIN', count: 3 }] }));
    expect(again.body).toEqual({ firmware: null });

    const rows = await cloud.db.query<{ outcome: string; count: number }>(
      'SELECT outcome, count FROM kiosk_auth_counts WHERE kiosk_id = $1 ORDER BY outcome',
      ['FM-K1'],
    );
    expect(rows).toEqual([
      { outcome: 'WRONG_PIN', count: 3 },
      { outcome: 'approved', count: 5 },
    ]);
    const hours = await cloud.db.query('SELECT hour FROM kiosk_contact_hours WHERE kiosk_id = $1', ['FM-K1']);
    expect(hours).toHaveLength(1);

    const kiosks = await listKiosks(cloud.db, 60_000);
    expect(kiosks.find((k) => k.kiosk_id === 'FM-K1')).toMatchObject({
      online: true,
      gateway_version: '0.1.0',
      events_waiting: 3,
      dispensers_online: 1,
      dispensers_total: 2,
      tank_level_pct: 64,
      water_quality: 'ok',
    });
    expect(kiosks.find((k) => k.kiosk_id === 'FM-K2')).toMatchObject({ online: false, last_contact_at: null });
    const detail = await kioskDetail(cloud.db, 'FM-K1', 60_000, 'Africa/Nairobi');
    expect(detail.today).toMatchObject({ approvals: 5, denials: { WRONG_PIN: 3 } });
  });

  it('refuses a status that breaks the contract, and a kiosk without its secret', async () => {
    const client = kioskClient(cloud.url, k1);
    expect((await client.status({ ...report(), tank_level_pct: 140 })).status).toBe(400);
    expect((await client.status(report({ auth_counts: [{ hour: 1234, outcome: 'approved', count: 1 }] }))).status).toBe(
      400,
    );
    const stranger = kioskClient(cloud.url, { kioskId: 'FM-K1', secret: 'wrong-secret' });
    expect((await stranger.status(report())).status).toBe(401);
  });

  it('keeps a kiosk alert from raised to cleared once, texts on-call once, and audits its acknowledgement', async () => {
    const client = kioskClient(cloud.url, k1);
    const occurrence = newId();
    const raised = [tankLow('FM-K1', occurrence, 'alert_raised')];
    await client.push(raised);
    await client.push(raised);
    const [alert] = (await listAlerts(cloud.db, { kioskId: 'FM-K1' })).filter((a) => a.rule === 'tank_low');
    expect(alert).toMatchObject({ alert_id: occurrence, source: 'kiosk', severity: 'critical', cleared_at: null });
    expect((await readOutbox(cloud.db, ON_CALL)).filter((m) => m.message.includes('Tank low'))).toHaveLength(1);

    const acked = await acknowledgeAlert(cloud.db, occurrence, 'alice');
    expect(acked.acknowledged_by).toBe('alice');
    expect((await acknowledgeAlert(cloud.db, occurrence, 'bob')).acknowledged_by).toBe('alice');
    const audit = await cloud.db.query('SELECT actor FROM audit_log WHERE action = $1 AND subject = $2', [
      'alert_acknowledge',
      occurrence,
    ]);
    expect(audit).toEqual([{ actor: 'alice' }]);

    await client.push([tankLow('FM-K1', occurrence, 'alert_cleared')]);
    expect((await listAlerts(cloud.db, { kioskId: 'FM-K1' })).some((a) => a.alert_id === occurrence)).toBe(false);
  });

  it('runs the cloud rules: raises once, clears when the condition ends', async () => {
    // FM-K2 was last heard long ago; D2 of FM-K1 has been offline for two hours.
    await cloud.db.query(`UPDATE kiosks SET last_contact_at = now() - interval '1 hour' WHERE kiosk_id = 'FM-K2'`);
    const customer = await createCustomer(cloud.db, { phone: '+254711000123', name: 'Over Drawn', pin: '4321' });
    await recordAdjustment(cloud.db, { accountId: customer.account_id, amountMl: 1000, reason: 't', operator: 't' });
    await kioskClient(cloud.url, k1).push([dispenseEvent('FM-K1', customer.account_id, 90_000)]);

    expect(await cloud.fleet.runAlertRules()).toBe(true);
    expect(await cloud.fleet.runAlertRules()).toBe(true);
    const open = await listAlerts(cloud.db);
    const cloudRules = open.filter((a) => a.source === 'cloud').map((a) => `${a.rule} ${a.subject}`);
    expect(cloudRules.sort()).toEqual([
      'dispenser_offline FM-K1/D2',
      'kiosk_offline FM-K2',
      `negative_balance ${customer.account_id}`,
    ]);

    await kioskClient(cloud.url, k2).pull();
    await cloud.fleet.runAlertRules();
    expect((await listAlerts(cloud.db)).some((a) => a.rule === 'kiosk_offline')).toBe(false);
  });

  it('rolls firmware out to chosen kiosks and records their progress', async () => {
    const signed = signFirmware(
      Buffer.from('dispenser image v2'),
      { version: 'fw/2', counter: 2 },
      RELEASE.privateKeyPem,
    );
    const { image, created } = await cloud.fleet.firmware.addImage(signed.file, 'alice');
    expect(created).toBe(true);
    expect((await cloud.fleet.firmware.addImage(signed.file, 'alice')).created).toBe(false);
    const forged = Buffer.from(signed.file);
    forged.writeUInt8(forged.readUInt8(forged.length - 1) ^ 1, forged.length - 1);
    await expect(cloud.fleet.firmware.addImage(forged, 'alice')).rejects.toMatchObject({ code: 'INVALID_FIRMWARE' });

    const rollout = await cloud.fleet.firmware.start({ version: 'fw/2', kioskIds: ['FM-K1'] }, 'alice');
    const k1Client = kioskClient(cloud.url, k1);
    const answer = await k1Client.status(report());
    expect(answer.body.firmware).toEqual({
      rollout_id: rollout.rollout_id,
      version: 'fw/2',
      sha256: image.sha256,
      size: image.size,
    });
    expect((await kioskClient(cloud.url, k2).status(report())).body.firmware).toBeNull();
    const file = await k1Client.fetch(firmwarePath(image.sha256));
    expect(Buffer.from(await file.arrayBuffer())).toEqual(signed.file);
    expect((await kioskClient(cloud.url, k2).fetch(firmwarePath(image.sha256))).status).toBe(404);

    const progress = {
      rollout_id: rollout.rollout_id,
      state: 'rolling' as const,
      message: null,
      dispensers: [{ dispenser_id: 'D1', state: 'confirmed' as const, message: null }],
    };
    await k1Client.status(report({ firmware: progress }));
    expect((await cloud.fleet.firmware.get(rollout.rollout_id)).kiosks).toEqual([
      expect.objectContaining({ kiosk_id: 'FM-K1', state: 'rolling', dispensers: progress.dispensers }),
    ]);
    const stopped = await cloud.fleet.firmware.stop(rollout.rollout_id, 'bob');
    expect(stopped).toMatchObject({ state: 'stopped', stopped_by: 'bob' });
    expect((await k1Client.status(report())).body.firmware).toBeNull();
  });

  it('serves kiosks and alerts to every role, acknowledging and rollouts to field only', async () => {
    expect((await fetch(`${cloud.url}/console/api/kiosks`)).status).toBe(401);
    const list = await finance.json<{ kiosks: { kiosk_id: string }[] }>('GET', '/kiosks');
    expect(list.kiosks.map((k) => k.kiosk_id)).toEqual(expect.arrayContaining(['FM-K1', 'FM-K2']));
    const detail = await support.json<{ kiosk_id: string; today: unknown }>('GET', '/kiosks/FM-K1');
    expect(detail).toMatchObject({ kiosk_id: 'FM-K1', today: expect.any(Object) });
    expect((await support.request('GET', '/kiosks/NOPE')).status).toBe(404);

    const occurrence = newId();
    await kioskClient(cloud.url, k2).push([tankLow('FM-K2', occurrence, 'alert_raised')]);
    const open = await finance.json<{ alerts: { alert_id: string }[] }>('GET', '/alerts?kiosk=FM-K2');
    expect(open.alerts.map((a) => a.alert_id)).toContain(occurrence);
    for (const other of [finance, support]) {
      expect((await other.request('POST', `/alerts/${occurrence}/acknowledge`, {})).status).toBe(403);
      expect((await other.request('POST', '/firmware/rollouts', { version: 'fw/2', kiosks: 'all' })).status).toBe(403);
    }
    const acked = await field.json<{ alert: { acknowledged_by: string } }>(
      'POST',
      `/alerts/${occurrence}/acknowledge`,
      {},
    );
    expect(acked.alert.acknowledged_by).toBe('field');
    expect((await field.request('POST', `/alerts/${newId()}/acknowledge`, {})).status).toBe(404);
  });

  it('streams a kiosk alert to a signed-in console as it arrives', async () => {
    expect((await fetch(`${cloud.url}/console/api/live`)).status).toBe(401);
    const stream = await fetch(`${cloud.url}/console/api/live`, { headers: { cookie: finance.cookie } });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = stream.body!.getReader();
    let received = '';
    const occurrence = newId();
    await kioskClient(cloud.url, k1).push([tankLow('FM-K1', occurrence, 'alert_raised')]);
    await vi.waitFor(
      async () => {
        const { value } = await reader.read();
        received += new TextDecoder().decode(value);
        expect(received).toContain(occurrence);
      },
      { timeout: 15_000 },
    );
    expect(received).toMatch(/event: alert\ndata: \{[^\n]*"severity":"critical"/);
    await reader.cancel();
  });
});
