import { LedgerEvent } from '@tusafishe/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { resolveHardwareConfig } from '../config.js';
import type { Condition } from '../rules/kiosk-rules.js';
import { AlertBook, type AlertChange } from './alert-book.js';
import { alertLedgerEvent } from './alert-ledger-event.js';
import { SmsAlerter } from './sms-alerter.js';

const door: Condition = { key: 'door_open', severity: 'warning', message: 'Kiosk door open', details: {} };
const tank: Condition = {
  key: 'tank_low',
  severity: 'critical',
  message: 'Tank low: 9% (low mark 15%)',
  details: { levelPct: 9 },
};

describe('alert book', () => {
  it('raises a condition once while it holds and clears it when it ends', () => {
    const book = new AlertBook();
    const raised = book.update([door], 1000);
    expect(raised).toMatchObject([{ kind: 'raised', alert: { key: 'door_open', raisedAt: 1000 } }]);
    expect(book.update([door], 2000)).toEqual([]);
    const cleared = book.update([], 3000);
    expect(cleared).toMatchObject([{ kind: 'cleared', clearedAt: 3000, alert: { id: raised[0]!.alert.id } }]);
    expect(book.active()).toEqual([]);
  });

  it('becomes ledger notices alert_raised / alert_cleared that the wire contract accepts', () => {
    const book = new AlertBook();
    const [raised] = book.update([tank], 1000);
    const [cleared] = book.update([], 5000);
    const events = [raised!, cleared!].map((c) => alertLedgerEvent(c, 'K1'));
    for (const event of events) expect(LedgerEvent.safeParse(event).success).toBe(true);
    expect(events).toMatchObject([
      {
        type: 'alert_raised',
        amount_ml: 0,
        kiosk_id: 'K1',
        occurred_at: 1000,
        details: { alert: 'tank_low', levelPct: 9 },
      },
      { type: 'alert_cleared', amount_ml: 0, kiosk_id: 'K1', occurred_at: 5000 },
    ]);
    expect(events[0]!.source_id).toBe(events[1]!.source_id);
  });
});

describe('SMS alerts to technicians', () => {
  function harness(overrides: Partial<ReturnType<typeof resolveHardwareConfig>['alerts']> = {}) {
    const config = {
      ...resolveHardwareConfig({ alerts: { technicianPhones: ['0700000102', '+254711000000'] } }).alerts,
      smsAfterOfflineMs: 60_000,
      ...overrides,
    };
    const state = { online: true, now: 0 };
    const sent: { to: string; text: string }[] = [];
    const book = new AlertBook();
    const sms = new SmsAlerter(config, {
      send: async (to, text) => void sent.push({ to, text }),
      isCloudReachable: () => state.online,
      now: () => state.now,
      logger: pino({ level: 'silent' }),
      kioskLabel: 'Tusafishe K1',
    });
    const step = async (conditions: Condition[], at: number) => {
      state.now = at;
      for (const change of book.update(conditions, at)) sms.onChange(change as AlertChange);
      await sms.tick();
    };
    return { state, sent, step, config };
  }

  it('sends nothing while the cloud is reachable', async () => {
    const { sent, step } = harness();
    await step([tank, door], 0);
    await step([tank, door], 3600_000);
    expect(sent).toEqual([]);
  });

  it('once offline long enough, texts every technician one message with the alerts, once', async () => {
    const { state, sent, step, config } = harness();
    expect(config.technicianPhones).toEqual(['+254700000102', '+254711000000']);
    state.online = false;
    await step([], 0);
    await step([door, tank], 10_000);
    expect(sent).toEqual([]); // offline, but not yet for smsAfterOfflineMs
    await step([door, tank], 60_000);
    expect(sent.map((s) => s.to)).toEqual(['+254700000102', '+254711000000']);
    expect(sent[0]!.text).toBe('Tusafishe K1 (offline 1 min): Tank low: 9% (low mark 15%). Kiosk door open.');
    await step([door, tank], 120_000);
    expect(sent).toHaveLength(2);
  });

  it('does not text a flapping alert again within smsRepeatAfterMs, nor one that cleared before its turn', async () => {
    const { state, sent, step } = harness({ smsAfterOfflineMs: 0, technicianPhones: ['+254700000102'] });
    state.online = false;
    await step([door], 0);
    await step([], 1000);
    await step([door], 2000);
    expect(sent).toHaveLength(1);
    const quiet = harness({ smsAfterOfflineMs: 60_000, technicianPhones: ['+254700000102'] });
    quiet.state.online = false;
    await quiet.step([door], 0);
    await quiet.step([], 30_000);
    await quiet.step([], 90_000);
    expect(quiet.sent).toEqual([]);
  });

  it('sends at most smsMaxPerHour messages an hour', async () => {
    const { state, sent, step } = harness({
      smsAfterOfflineMs: 0,
      smsMaxPerHour: 2,
      technicianPhones: ['+254700000102'],
    });
    state.online = false;
    const distinct = (i: number): Condition => ({ ...door, key: `door_open:${i}`, message: `alert ${i}` });
    for (let i = 0; i < 5; i++) await step([distinct(i)], i * 1000);
    expect(sent).toHaveLength(2);
    await step([distinct(4)], 3600_000 + 1000);
    expect(sent).toHaveLength(3);
  });
});
