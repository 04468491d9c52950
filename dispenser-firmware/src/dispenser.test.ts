import { describe, expect, it } from 'vitest';
import { HEARTBEAT_INTERVAL_MS, dispenserTopic, newId } from '@tusafishe/protocol';
import { Dispenser } from './dispenser.js';
import { DEFAULT_TIMINGS } from './firmware-settings.js';
import { FakeHal, MemoryStorage, TEST_CONFIG, signedOta } from '../test/fake-hal.js';

function boot(hal = new FakeHal()): { hal: FakeHal; firmware: Dispenser } {
  const firmware = new Dispenser(hal, { id: hal.id, username: hal.id, password: 'secret' });
  firmware.start();
  return { hal, firmware };
}

/** Phone, PIN and preset A (5 L) typed; returns the AuthRequest the firmware sent. */
function buyPresetA(hal: FakeHal): Record<string, unknown> {
  hal.press('0700000101#1234#A');
  return hal.lastSent('auth/request');
}

function approve(hal: FakeHal, request: Record<string, unknown>, approvedMl = 5000): string {
  const sessionId = newId();
  hal.deliver('auth/response', {
    request_id: request.request_id,
    approved: true,
    session_id: sessionId,
    approved_ml: approvedMl,
    balance_ml: 15_000,
    hold_expires_at: hal.clock.now() + 600_000,
  });
  return sessionId;
}

describe('dispenser state machine', () => {
  it('shows the gateway as unreachable and opens nothing until it is connected and configured', () => {
    const { hal } = boot();
    expect(hal.text()).toContain('Gateway unreachable');
    hal.press('0700000101#1234#A');
    expect(hal.sent('auth/request')).toHaveLength(0);
    expect(hal.line.isOpen).toBe(false);

    hal.connect();
    expect(hal.text()).toContain('Enter phone number');
    expect(hal.mqtt.options).toMatchObject({
      clientId: 'D1',
      username: 'D1',
      will: { topic: dispenserTopic('D1', 'status'), retain: true },
    });
    expect(JSON.parse(hal.mqtt.options!.will.payload)).toEqual({ online: false });
    expect(hal.mqtt.subscriptions.sort()).toEqual(
      ['auth/response', 'command', 'config', 'session/ack', 'token/response'].map((l) => `tusafishe/v1/d/D1/${l}`),
    );
    expect(hal.lastSent('status')).toMatchObject({ online: true });
    expect(hal.mqtt.published.find((p) => p.topic.endsWith('/status'))?.retain).toBe(true);
  });

  it('sells 5 L: masked PIN, session persisted before the valve opens, valve closed on the target pulse, balance after the ack', () => {
    const { hal } = boot();
    hal.connect();
    hal.press('0700000101');
    expect(hal.text()).toContain('0700000101_');
    hal.press('#12');
    expect(hal.text()).toContain('**_');
    expect(hal.text()).not.toContain('12');
    hal.press('34#');
    expect(hal.text()).toContain('A 5L');
    hal.press('A');
    const request = hal.lastSent('auth/request');
    expect(request).toMatchObject({ phone: '0700000101', pin: '1234', requested_ml: 5000 });
    expect(hal.text()).toContain('Checking account');

    let persistedBeforeOpen = false;
    const open = hal.line.open.bind(hal.line);
    hal.line.open = () => {
      persistedBeforeOpen = hal.storage.values.has('flight');
      open();
    };
    const sessionId = approve(hal, request);
    expect(hal.line.isOpen).toBe(true);
    expect(persistedBeforeOpen).toBe(true);

    hal.line.flow(1000);
    hal.clock.advance(DEFAULT_TIMINGS.flowTickMs);
    expect(hal.text()).toContain('2.22L of 5L');
    expect(hal.lastSent('session/progress')).toMatchObject({ session_id: sessionId, pulses: 1000, delivered_ml: 2222 });
    expect(hal.storage.get('pulses')).toBe('1000');

    hal.line.flow(5000); // far more than needed: the valve must close on pulse 2250
    expect(hal.line.isOpen).toBe(false);
    expect(hal.line.count()).toBe(2250);
    expect(hal.lastSent('session/complete')).toMatchObject({
      session_id: sessionId,
      delivered_ml: 5000,
      pulses: 2250,
      end_reason: 'target_reached',
    });
    expect(hal.text()).toContain('Thank you!');
    expect(hal.storage.values.has('flight')).toBe(false);

    hal.deliver('session/ack', { session_id: sessionId, event_id: newId(), recorded_ml: 5000, balance_ml: 15_000 });
    expect(hal.text()).toContain('Balance 15L');
    expect(hal.storage.values.has('pending')).toBe(false);
    hal.clock.advance(DEFAULT_TIMINGS.messageMs);
    expect(hal.text()).toContain('Enter phone number');
  });

  it('shows a denial with its reason and attempts left, then returns to idle', () => {
    const { hal } = boot();
    hal.connect();
    const request = buyPresetA(hal);
    hal.deliver('auth/response', {
      request_id: request.request_id,
      approved: false,
      reason: 'WRONG_PIN',
      message: 'Wrong PIN',
      attempts_left: 2,
    });
    expect(hal.text()).toContain('Wrong PIN');
    expect(hal.text()).toContain('2 attempts left');
    expect(hal.line.isOpen).toBe(false);
    hal.press('#');
    expect(hal.text()).toContain('Enter phone number');
  });

  it('takes a keypad token: A, phone #, 15 digits #; a typo is caught on the device; shows what was added', () => {
    const token = '123456789012345'; // a right Damm check digit
    const { hal } = boot();
    hal.connect();
    expect(hal.text()).toContain('A=add credit token');
    hal.press('A0700000101#');
    expect(hal.text()).toContain('Token (15 digits):');
    hal.press(`12345678901234${'8'}#`);
    expect(hal.text()).toContain('Check the token:');
    expect(hal.text()).toContain('12345 67890 12348');
    expect(hal.sent('token/request')).toHaveLength(0);
    hal.press('*5#');
    const request = hal.lastSent('token/request');
    expect(request).toMatchObject({ phone: '0700000101', token });
    expect(hal.text()).toContain('Checking token');
    hal.clock.advance(DEFAULT_TIMINGS.authRetryMs);
    expect(new Set(hal.sent('token/request').map((r) => r.request_id)).size).toBe(1);
    hal.deliver('token/response', {
      request_id: request.request_id,
      outcome: 'ADDED',
      message: 'Credit added',
      credit_ml: 400_000,
      balance_ml: 420_000,
    });
    expect(hal.text()).toContain('Credit added');
    expect(hal.text()).toContain('Token: 400L');
    expect(hal.text()).toContain('Balance 420L');
    hal.press('#');
    hal.press('A0700000101#123456789012345#');
    const second = hal.lastSent('token/request');
    hal.deliver('token/response', {
      request_id: second.request_id,
      outcome: 'WRONG_TOKEN',
      message: 'Wrong token',
      attempts_left: 4,
    });
    expect(hal.text()).toContain('Wrong token');
    expect(hal.text()).toContain('4 attempts left');
    expect(hal.line.isOpen).toBe(false);
  });

  it('repeats an unanswered request with the same id, gives up, and releases a late approval at once', () => {
    const { hal } = boot();
    hal.connect();
    const request = buyPresetA(hal);
    hal.clock.advance(DEFAULT_TIMINGS.authRetryMs * 2);
    const sent = hal.sent('auth/request');
    expect(sent.length).toBe(3);
    expect(new Set(sent.map((r) => r.request_id)).size).toBe(1);
    hal.clock.advance(DEFAULT_TIMINGS.authTimeoutMs - DEFAULT_TIMINGS.authRetryMs * 2);
    expect(hal.text()).toContain('Gateway not');
    const sessionId = approve(hal, request);
    expect(hal.line.isOpen).toBe(false);
    expect(hal.lastSent('session/complete')).toMatchObject({
      session_id: sessionId,
      delivered_ml: 0,
      end_reason: 'cancelled',
    });
  });

  it('closes the valve when the gateway is lost and reports the delivered water once it is back', () => {
    const { hal } = boot();
    hal.connect();
    const sessionId = approve(hal, buyPresetA(hal));
    hal.line.flow(900);
    hal.disconnect();
    expect(hal.line.isOpen).toBe(false);
    expect(hal.text()).toContain('Stopped: no gateway');
    hal.clock.advance(DEFAULT_TIMINGS.messageMs);
    expect(hal.text()).toContain('Gateway unreachable');
    const before = hal.sent('session/complete').length;
    hal.connect();
    const resent = hal.sent('session/complete').slice(before);
    expect(resent[0]).toMatchObject({
      session_id: sessionId,
      delivered_ml: 2000,
      pulses: 900,
      end_reason: 'gateway_lost',
    });
  });

  it('closes the valve after the no-flow timeout and charges only what flowed', () => {
    const { hal } = boot();
    hal.connect();
    approve(hal, buyPresetA(hal));
    hal.line.flow(450);
    hal.clock.advance(TEST_CONFIG.no_flow_timeout_ms + DEFAULT_TIMINGS.flowTickMs * 2);
    expect(hal.line.isOpen).toBe(false);
    expect(hal.lastSent('session/complete')).toMatchObject({ delivered_ml: 1000, end_reason: 'no_flow' });
    expect(hal.text()).toContain('Stopped: no flow');
  });

  it('stops on * and reports a cancelled session', () => {
    const { hal } = boot();
    hal.connect();
    approve(hal, buyPresetA(hal));
    hal.line.flow(225);
    hal.press('*');
    expect(hal.line.isOpen).toBe(false);
    expect(hal.lastSent('session/complete')).toMatchObject({ delivered_ml: 500, end_reason: 'cancelled' });
  });

  it('after a power cut reports the persisted session as power_loss, repeatedly, until acknowledged', () => {
    const storage = new MemoryStorage();
    const first = boot(new FakeHal('D1', storage)).hal;
    first.connect();
    const sessionId = approve(first, buyPresetA(first));
    first.line.flow(900);
    first.clock.advance(DEFAULT_TIMINGS.flowTickMs); // pulses persisted
    first.line.flow(10); // lost with the power: never persisted

    const { hal } = boot(new FakeHal('D1', storage));
    expect(hal.line.isOpen).toBe(false);
    hal.connect();
    const expected = { session_id: sessionId, delivered_ml: 2000, pulses: 900, end_reason: 'power_loss' };
    expect(hal.lastSent('session/complete')).toMatchObject(expected);
    hal.clock.advance(DEFAULT_TIMINGS.completeRetryMs);
    expect(hal.sent('session/complete')).toHaveLength(2);
    hal.deliver('session/ack', { session_id: sessionId, event_id: newId(), recorded_ml: 2000, balance_ml: 18_000 });
    hal.clock.advance(DEFAULT_TIMINGS.completeRetryMs * 3);
    expect(hal.sent('session/complete')).toHaveLength(2);
  });

  it('takes typed litres up to the configured maximum', () => {
    const { hal } = boot();
    hal.connect();
    hal.press('0700000101#1234#25#');
    expect(hal.text()).toContain('Max 20L: 25_');
    expect(hal.sent('auth/request')).toHaveLength(0);
    hal.press('*#');
    expect(hal.lastSent('auth/request')).toMatchObject({ requested_ml: 2000 });
  });

  it('returns to idle after entry inactivity; * on an empty field cancels', () => {
    const { hal } = boot();
    hal.connect();
    hal.press('07');
    hal.clock.advance(DEFAULT_TIMINGS.entryTimeoutMs);
    expect(hal.text()).toContain('Enter phone number');
    hal.press('07**');
    expect(hal.text()).toContain('Phone number:');
    hal.press('*');
    expect(hal.text()).toContain('Enter phone number');
  });

  it('goes out of service when disabled and runs a valve test, answering a repeated command identically', () => {
    const { hal } = boot();
    hal.connect({ ...TEST_CONFIG, enabled: false });
    expect(hal.text()).toContain('Out of service');
    hal.press('0700000101#');
    expect(hal.text()).toContain('Out of service');
    const command = { command_id: newId(), type: 'valve_test', duration_ms: 2000 };
    hal.deliver('command', command);
    expect(hal.line.isOpen).toBe(true);
    hal.line.flow(450);
    hal.clock.advance(2000);
    expect(hal.line.isOpen).toBe(false);
    expect(hal.lastSent('command/result')).toMatchObject({
      command_id: command.command_id,
      ok: true,
      pulses: 450,
      delivered_ml: 1000,
    });
    hal.deliver('command', command);
    expect(hal.sent('command/result')).toHaveLength(2);
    expect(hal.line.isOpen).toBe(false);
  });

  it('refuses a valve test while a customer is being served', () => {
    const { hal } = boot();
    hal.connect();
    hal.press('07');
    hal.deliver('command', { command_id: newId(), type: 'valve_test', duration_ms: 1000 });
    expect(hal.lastSent('command/result')).toMatchObject({ ok: false });
    expect(hal.line.isOpen).toBe(false);
  });

  it('updates its firmware only when idle: LCD says so, valve shut, keys ignored, a repeat waits, then reboots', () => {
    const { hal } = boot();
    hal.connect();
    const ota = signedOta({
      command_id: newId(),
      type: 'ota',
      version: 'tusafishe-fw/0.2.0',
      url: 'http://gw/firmware/a.bin',
      sha256: 'a'.repeat(64),
      size: 10,
      counter: 2,
    });
    hal.press('07');
    hal.deliver('command', ota);
    expect(hal.lastSent('command/result')).toMatchObject({
      command_id: ota.command_id,
      ok: false,
      message: 'busy (phone)',
    });
    expect(hal.installing).toBeUndefined();
    hal.press('***');

    const second = { ...ota, command_id: newId() };
    hal.deliver('command', second);
    expect(hal.text()).toContain('Updating firmware');
    expect(hal.lastSent('heartbeat')).toMatchObject({ state: 'updating' });
    expect(hal.installing?.image).toMatchObject({ version: 'tusafishe-fw/0.2.0', sha256: 'a'.repeat(64), size: 10 });
    hal.press('0700000101#1234#A');
    hal.deliver('command', second);
    hal.disconnect();
    hal.connect();
    expect(hal.sent('auth/request')).toHaveLength(0);
    expect(hal.sent('command/result')).toHaveLength(1);
    expect(hal.line.isOpen).toBe(false);
    hal.installing?.done();
    expect(hal.lastSent('command/result')).toMatchObject({ command_id: second.command_id, ok: true });
    hal.clock.advance(500);
    expect(hal.restarts).toBe(1);
  });

  it('stays on its firmware and serves customers again when an image is refused', () => {
    const { hal } = boot();
    hal.connect();
    hal.deliver(
      'command',
      signedOta({
        command_id: newId(),
        type: 'ota',
        version: 'v2',
        url: 'http://gw/f.bin',
        sha256: 'b'.repeat(64),
        size: 1,
        counter: 1,
      }),
    );
    hal.installing?.done('image refused: SHA-256 mismatch');
    expect(hal.lastSent('command/result')).toMatchObject({ ok: false, message: 'image refused: SHA-256 mismatch' });
    expect(hal.text()).toContain('Enter phone number');
    hal.clock.advance(1000);
    expect(hal.restarts).toBe(0);
  });

  it('installs only release-signed images whose counter is not below the highest it installed', () => {
    const { hal } = boot();
    hal.connect();
    const release = { type: 'ota', url: 'http://gw/f.bin', sha256: 'c'.repeat(64), size: 5 } as const;
    const answer = (command: object) => {
      const command_id = newId();
      hal.deliver('command', { ...command, command_id });
      return hal.sent('command/result').find((r) => r.command_id === command_id);
    };
    const unsigned = { ...release, version: 'v3', counter: 3 };
    expect(answer(unsigned)).toMatchObject({ ok: false, message: 'image refused: not signed' });
    const relabelled = { ...signedOta({ ...release, version: 'v3', counter: 3 }), counter: 9 };
    expect(answer(relabelled)).toMatchObject({ ok: false, message: 'image refused: bad signature' });
    const tamperedHash = { ...signedOta({ ...release, version: 'v3', counter: 3 }), sha256: 'd'.repeat(64) };
    expect(answer(tamperedHash)).toMatchObject({ ok: false, message: 'image refused: bad signature' });
    expect(answer(signedOta({ ...release, version: 'v0', counter: 0 }))).toMatchObject({
      ok: false,
      message: 'image refused: counter 0 is below 1',
    });
    expect(hal.installing).toBeUndefined();

    answer(signedOta({ ...release, version: 'v3', counter: 3 }));
    hal.installing?.done();
    hal.clock.advance(500);
    expect(hal.restarts).toBe(1);
    const rebooted = boot(new FakeHal('D1', hal.storage)).hal;
    rebooted.connect();
    const command_id = newId();
    rebooted.deliver('command', { ...signedOta({ ...release, version: 'v2', counter: 2 }), command_id });
    expect(rebooted.lastSent('command/result')).toMatchObject({
      ok: false,
      message: 'image refused: counter 2 is below 3',
    });
  });

  it('drops invalid payloads, counts them, and sends heartbeats every 2 minutes with its counters', () => {
    const { hal } = boot();
    hal.connect();
    hal.mqtt.events?.onMessage(dispenserTopic('D1', 'config'), '{"pulses_per_litre":-1}');
    expect(hal.text()).toContain('Enter phone number');
    hal.clock.advance(HEARTBEAT_INTERVAL_MS);
    expect(hal.lastSent('heartbeat')).toMatchObject({
      errors: 1,
      dispenses: 0,
      uptime_s: 120,
      rssi_dbm: -60,
      state: 'idle',
    });
  });
});
