import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '@tusafishe/protocol';
import { FileStorage } from '../src/host/file-storage.js';
import { SessionStore } from '../src/session-store.js';
import type { FirmwareEngine } from '../src/host/simulated-dispenser.js';
import { KioskHarness, eventually } from './kiosk-harness.js';

/** The purchase scenarios against the real gateway, with the firmware on `engine`; the same outcomes on each. */
export function purchaseScenarios(engine: FirmwareEngine): void {
  describe(`dispenser (firmware on ${engine}) against the real gateway`, () => {
    let kiosk: KioskHarness;
    beforeEach(async () => {
      kiosk = await KioskHarness.start(undefined, engine);
    });
    afterEach(async () => {
      await kiosk.close();
    });

    it('sells water by key presses: phone, masked PIN, preset, valve, thank-you with the new balance', async () => {
      const d1 = await kiosk.dispenser();
      await d1.waitForLcd('Enter phone number');
      await d1.press('0700000101');
      expect(d1.lcd()[1]).toBe('0700000101_'.padEnd(20));
      await d1.press('#1234');
      expect(d1.lcd()[1]).toBe('****_'.padEnd(20));
      await d1.press('#');
      expect(d1.lcd()).toEqual(
        ['Choose volume:', 'A 1L      B 5L', 'C 10L     D 20L', 'or litres then #'].map((l) => l.padEnd(20)),
      );
      await d1.press('A');
      await d1.waitFor((d) => d.valveOpen, 'valve open');
      expect(d1.lcd()[0]?.trim()).toBe('Dispensing...');
      await d1.waitForLcd('Thank you!');
      expect(d1.valveOpen).toBe(false);
      await d1.waitForLcd('Balance 19L');
      expect(d1.lcd()[1]?.trim()).toBe('Delivered 1L');
      expect(kiosk.dispenses('+254700000101').map((e) => e.amount_ml)).toEqual([-1000]);
    });

    it('shows each denial on the LCD with its reason', async () => {
      const d1 = await kiosk.dispenser();
      await d1.waitForLcd('Enter phone number');
      const attempt = async (keys: string, text: string) => {
        await d1.press(keys);
        await d1.waitForLcd(text);
        expect(d1.lcd()[0]?.trim()).toBe('Sorry:');
        expect(d1.valveOpen).toBe(false);
        await d1.press('#');
        await d1.waitForLcd('Enter phone number');
      };
      await attempt('0700000102#9999#A', 'Wrong PIN');
      await attempt('0700000102#9999#A', 'attempts left');
      for (let tries = 0; tries < 5 && !d1.lcd().join('').includes('Locked'); tries++) {
        await d1.press('0700000102#9999#A');
        await d1.waitForLcd('Sorry:');
        if (!d1.lcd().join('').includes('Locked')) {
          await d1.press('#');
          await d1.waitForLcd('Enter phone number');
        }
      }
      expect(d1.lcd()[1]?.trim()).toBe('Locked: try later');
      await d1.press('#');
      await d1.waitForLcd('Enter phone number');
      await attempt('0700000199#1234#A', 'Number not found');
      await attempt('0700000106#1234#A', 'Account inactive');
      await d1.press('0700000103#1234#C');
      await d1.waitForLcd('Balance 10L', 10_000);
      await d1.press('#');
      await attempt('0700000103#1234#D', 'Not enough credit');
      await kiosk.gateway.setDispenserConfig('D1', { enabled: false });
      await d1.waitForLcd('Out of service');
      expect(kiosk.dispenses('+254700000102')).toEqual([]);
    });

    it('closes the valve at the approved volume, within one pulse', async () => {
      const d1 = await kiosk.dispenser();
      await d1.waitForLcd('Enter phone number');
      await d1.press('0700000102#1234#2#');
      await d1.waitFor((d) => d.valveOpen, 'valve open');
      await d1.waitForLcd('Balance 18L');
      const pulsesPerLitre = 450;
      const measuredMl = (d1.pulses * 1000) / pulsesPerLitre;
      expect(Math.abs(measuredMl - 2000)).toBeLessThan(1000 / pulsesPerLitre);
      expect(kiosk.dispenses('+254700000102').map((e) => e.amount_ml)).toEqual([-2000]);
    });

    it('after a power cut mid-dispense reports the session on reboot, recorded exactly once', async () => {
      const first = await kiosk.dispenser('D1', { flowRateMlPerSecond: 1000 });
      await first.waitForLcd('Enter phone number');
      await first.press('0700000104#1234#B');
      await first.waitFor((d) => d.pulses >= 700, 'water flowing', 10_000);
      await first.powerCut();
      expect(first.valveOpen).toBe(false);
      expect(kiosk.dispenses('+254700000104')).toEqual([]);
      const persistedPulses = Number(readFileSync(join(kiosk.dir, 'dispensers', 'D1', 'pulses.json'), 'utf8'));
      expect(persistedPulses).toBeGreaterThan(0);

      const rebooted = await kiosk.dispenser('D1', { flowRateMlPerSecond: 1000 });
      await eventually(() => kiosk.dispenses('+254700000104').length > 0, 'power-loss session recorded');
      const [event] = kiosk.dispenses('+254700000104');
      expect(-event!.amount_ml).toBe(Math.floor((persistedPulses * 1000) / 450));
      expect(-event!.amount_ml).toBeLessThan(5000);
      await rebooted.waitForLcd('Enter phone number');
      expect(rebooted.valveOpen).toBe(false);
      // Retries stop once the gateway's ack has cleared the completion from flash; by then every
      // copy the dispenser sent has been answered, and the session is still recorded once.
      const flash = join(kiosk.dir, 'dispensers', 'D1');
      await eventually(
        () => new SessionStore(new FileStorage(flash)).pending().length === 0,
        'completion acknowledged',
      );
      expect(kiosk.dispenses('+254700000104')).toHaveLength(1);
    });

    it('closes the valve when the gateway goes away mid-dispense, and settles the session when it returns', async () => {
      const d1 = await kiosk.dispenser('D1', { flowRateMlPerSecond: 1000 });
      await d1.waitForLcd('Enter phone number');
      await d1.press('0700000105#1234#B');
      await d1.waitFor((d) => d.pulses >= 450, 'water flowing', 10_000);
      await kiosk.gateway.close();
      await d1.waitFor((d) => !d.valveOpen, 'valve closed', 3000);
      await d1.waitForLcd('Stopped: no gateway');
      await d1.waitForLcd('Gateway unreachable', 8000);
      await d1.press('0700000105#1234#A');
      expect(d1.valveOpen).toBe(false);

      await kiosk.restartGateway();
      await eventually(() => kiosk.dispenses('+254700000105').length > 0, 'gateway_lost session recorded', 8000);
      const [event] = kiosk.dispenses('+254700000105');
      expect(-event!.amount_ml).toBeGreaterThanOrEqual(1000);
      expect(-event!.amount_ml).toBeLessThan(5000);
      await d1.waitForLcd('Enter phone number');
    });

    it('stops on a dry tank after the no-flow timeout and charges only the water delivered', async () => {
      await kiosk.gateway.setDispenserConfig('D1', { no_flow_timeout_ms: 1000 });
      const d1 = await kiosk.dispenser();
      await d1.waitForLcd('Enter phone number');
      await d1.press('0700000101#1234#B');
      await d1.waitFor((d) => d.pulses >= 450, 'water flowing', 10_000);
      d1.setFlowRate(0);
      const pulses = d1.pulses;
      await d1.waitForLcd('Stopped: no flow', 5000);
      expect(d1.valveOpen).toBe(false);
      await d1.waitForLcd('Balance');
      const delivered = Math.floor((d1.pulses * 1000) / 450);
      expect(d1.pulses).toBeGreaterThanOrEqual(pulses);
      expect(kiosk.dispenses('+254700000101').map((e) => e.amount_ml)).toEqual([-delivered]);
      expect(delivered).toBeLessThan(5000);
    });

    it('runs a technician valve test and applies a new calibration from the gateway', async () => {
      const d1 = await kiosk.dispenser();
      await d1.waitForLcd('Enter phone number');
      const result = new Promise<{ ok: boolean; pulses?: number | undefined }>((resolve) =>
        kiosk.gateway.events.on('command-result', ({ result }) => resolve(result)),
      );
      await kiosk.gateway.sendCommand('D1', { command_id: newId(), type: 'valve_test', duration_ms: 300 });
      await d1.waitFor((d) => d.valveOpen, 'valve test open');
      await d1.waitFor((d) => !d.valveOpen, 'valve test closed');
      expect(await result).toMatchObject({ ok: true });
      expect((await result).pulses).toBeGreaterThan(0);

      await kiosk.gateway.setDispenserConfig('D1', { pulses_per_litre: 900, presets_ml: [2000] });
      await d1.waitFor((d) => d.view().lcd.join('').includes('Enter phone'), 'idle');
      await d1.press('0700000101#1234#');
      expect(d1.lcd()[1]?.trim()).toBe('A 2L');
      await d1.press('A');
      await d1.waitForLcd('Balance 18L');
      expect(d1.pulses).toBe(1800);
    });

    it('sends 50 unacknowledged completions after a reboot; those the gateway refuses as unknown are kept, not retried', async () => {
      const flash = join(kiosk.dir, 'dispensers', 'D1');
      const before = new SessionStore(new FileStorage(flash));
      const unknown = Array.from({ length: 50 }, (_, i) => ({
        session_id: newId(),
        request_id: newId(),
        delivered_ml: 1000 + i,
        pulses: 450 + i,
        end_reason: 'power_loss' as const,
        ended_at: Date.now() - 60_000,
      }));
      for (const completion of unknown) before.addPending(completion);

      const d1 = await kiosk.dispenser();
      await eventually(
        () => kiosk.gateway.store.refusedCompletions.forDispenser('D1', 100).length === 50,
        'all 50 kept',
      );
      const flashNow = () => new SessionStore(new FileStorage(flash));
      await eventually(() => flashNow().pending().length === 0, 'refusals received');
      expect(
        flashNow()
          .refused()
          .map((c) => c.session_id)
          .sort(),
      ).toEqual(unknown.map((c) => c.session_id).sort());
      expect(kiosk.gateway.store.refusedCompletions.forDispenser('D1', 100)[0]).toMatchObject({
        reason: 'UNKNOWN_SESSION',
        end_reason: 'power_loss',
      });
      // Nothing was charged, and the dispenser still sells water.
      await d1.waitForLcd('Enter phone number');
      await d1.press('0700000101#1234#A');
      await d1.waitForLcd('Balance 19L');
      expect(kiosk.dispenses('+254700000101').map((e) => e.amount_ml)).toEqual([-1000]);
    });

    it('says the gateway is unreachable and opens no valve when there is no broker', async () => {
      const d2 = await kiosk.dispenser('D2', { mqttUrl: 'mqtt://127.0.0.1:1' });
      await d2.waitForLcd('Gateway unreachable');
      await d2.press('0700000101#1234#A');
      expect(d2.valveOpen).toBe(false);
      expect(d2.lcd()[1]?.trim()).toBe('Gateway unreachable');
    });
  });
}
