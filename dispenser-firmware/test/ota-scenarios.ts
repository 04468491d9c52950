import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, type CommandResult } from '@tusafishe/protocol';
import { generateReleaseKey, signFirmware } from '@tusafishe/protocol/signed-firmware';
import { firmwareExtension, type FirmwareUpdates, technicianApi } from '@tusafishe/gateway';
import { FIRMWARE_VERSION } from '../src/firmware-settings.js';
import type { FirmwareEngine } from '../src/host/simulated-dispenser.js';
import { KioskHarness, eventually } from './kiosk-harness.js';

const NEW_VERSION = 'tusafishe-fw/0.2.0';
/** Each release's own bytes. */
const imageOf = (version: string) => Buffer.from(`dispenser image ${version} `.repeat(300));
/** The test fleet's release key: the gateway checks uploads with its public half, the simulated firmware is built with it. */
const RELEASE = generateReleaseKey();
const signed = (version = NEW_VERSION, counter = 2, key = RELEASE.privateKeyPem) =>
  signFirmware(imageOf(version), { version, counter }, key);

/** Over-the-air updates against the real gateway, with the firmware on `engine`; the same outcomes on each. */
export function otaScenarios(engine: FirmwareEngine): void {
  let kiosk: KioskHarness;
  let firmware: FirmwareUpdates;

  const bootD1 = (options: { flowRateMlPerSecond?: number } = {}) =>
    kiosk.dispenser('D1', { releasePublicKey: RELEASE.publicKey, ...options });

  /** Uploads the signed file to the gateway's store and starts D1's update, as the technician API does. */
  async function updateD1(file = signed().file) {
    const { image } = firmware.images.add(file, null);
    return firmware.rollouts.start(
      'D1',
      image,
      `http://127.0.0.1:${kiosk.gateway.httpPort}/firmware/${image.sha256}.bin`,
      null,
    );
  }

  const rolloutState = () => firmware.rollouts.get('D1')?.state;
  const reportedFirmware = () => kiosk.gateway.store.dispensers.get('D1')?.firmware;

  function nextResult(commandId: string): Promise<CommandResult> {
    return new Promise((resolve) => {
      kiosk.gateway.events.on('command-result', ({ result }) => {
        if (result.command_id === commandId) resolve(result);
      });
    });
  }

  describe(`firmware (on ${engine}) update over the air`, () => {
    beforeEach(async () => {
      kiosk = await KioskHarness.start(async (core) => {
        const extension = firmwareExtension(core, { FIRMWARE_PUBLIC_KEY: RELEASE.publicKey });
        firmware = extension;
        await core.http.register(technicianApi, { gateway: core, firmware });
        return [extension];
      }, engine);
    });
    afterEach(async () => {
      await kiosk.close();
    });

    it('downloads, verifies, reboots into the new version and keeps it across power cuts; the gateway confirms it', async () => {
      const d1 = await bootD1();
      await d1.waitForLcd('Enter phone number');
      expect(reportedFirmware()).toBe(FIRMWARE_VERSION);
      await updateD1();
      await eventually(() => rolloutState() === 'confirmed', 'rollout confirmed', 10_000);
      expect(reportedFirmware()).toBe(NEW_VERSION);
      await d1.waitForLcd('Enter phone number');
      const heartbeat = kiosk.gateway.store.dispensers.get('D1')?.last_heartbeat;
      expect(heartbeat?.firmware).toBe(NEW_VERSION);

      await d1.powerCut();
      const again = await bootD1();
      await again.waitForLcd('Enter phone number');
      expect(reportedFirmware()).toBe(NEW_VERSION);
      await again.press('0700000101#1234#A');
      await again.waitForLcd('Thank you!');
    });

    it('refuses a corrupt image and stays on its version, serving customers', async () => {
      const d1 = await bootD1();
      await d1.waitForLcd('Enter phone number');
      const { image } = firmware.images.add(signed().file, null);
      // Tampered on the gateway's disk after the upload: the signed hash no longer matches.
      writeFileSync(firmware.images.path(image.sha256), imageOf(NEW_VERSION).fill(0x41, 0, 10));
      await updateD1();
      await eventually(() => rolloutState() === 'failed', 'rollout failed', 10_000);
      expect(firmware.rollouts.get('D1')?.message).toBe('image refused: SHA-256 mismatch');
      await d1.waitForLcd('Enter phone number');
      expect(reportedFirmware()).toBe(FIRMWARE_VERSION);
      await d1.press('0700000101#1234#A');
      await d1.waitForLcd('Thank you!');
    });

    it('refuses an unsigned image, one signed by another key and an older release, staying on its version', async () => {
      const d1 = await bootD1();
      await d1.waitForLcd('Enter phone number');
      // The gateway stores none but release-signed files…
      expect(() => firmware.images.add(imageOf(NEW_VERSION), null)).toThrow(
        expect.objectContaining({ code: 'INVALID_FIRMWARE' }),
      );
      const forged = signed('tusafishe-fw/6.6.6', 99, generateReleaseKey().privateKeyPem);
      expect(() => firmware.images.add(forged.file, null)).toThrow(
        expect.objectContaining({ code: 'INVALID_FIRMWARE' }),
      );
      // …and should a compromised gateway send them anyway, the dispenser refuses them itself.
      const url = `http://127.0.0.1:${kiosk.gateway.httpPort}/firmware/${forged.manifest.sha256}.bin`;
      const send = async (fields: object) => {
        const command = { command_id: newId(), type: 'ota', url, ...fields } as const;
        const result = nextResult(command.command_id);
        await kiosk.gateway.sendCommand('D1', command as never);
        return result;
      };
      const { signature: _, ...unsigned } = forged.manifest;
      expect(await send(unsigned)).toMatchObject({ ok: false, message: 'image refused: not signed' });
      expect(await send(forged.manifest)).toMatchObject({ ok: false, message: 'image refused: bad signature' });

      await updateD1(signed('tusafishe-fw/0.3.0', 3).file);
      await eventually(() => rolloutState() === 'confirmed', 'release 3 confirmed', 10_000);
      await d1.waitForLcd('Enter phone number');
      await updateD1(signed(NEW_VERSION, 2).file);
      await eventually(() => rolloutState() === 'failed', 'older release refused', 10_000);
      expect(firmware.rollouts.get('D1')?.message).toBe('image refused: counter 2 is below 3');
      expect(reportedFirmware()).toBe('tusafishe-fw/0.3.0');
      await d1.press('0700000101#1234#A');
      await d1.waitForLcd('Thank you!');
    });

    it('refuses an update mid-dispense and finishes the dispense', async () => {
      const d1 = await bootD1({ flowRateMlPerSecond: 500 });
      await d1.waitForLcd('Enter phone number');
      await d1.press('0700000101#1234#A');
      await d1.waitFor((d) => d.valveOpen, 'valve open');
      await expect(updateD1()).rejects.toMatchObject({ code: 'DISPENSER_BUSY' });
      // The firmware refuses too, should a command reach it anyway.
      const command = {
        command_id: newId(),
        type: 'ota',
        version: NEW_VERSION,
        url: 'http://127.0.0.1:9/x.bin',
        sha256: 'a'.repeat(64),
        size: 1,
      } as const;
      const result = nextResult(command.command_id);
      await kiosk.gateway.sendCommand('D1', command);
      expect(await result).toMatchObject({ ok: false, message: 'busy (dispensing)' });
      expect(d1.valveOpen).toBe(true);
      await d1.waitForLcd('Balance 19L'); // shown once the gateway acknowledged the recorded dispense
      expect(kiosk.dispenses('+254700000101').map((e) => e.amount_ml)).toEqual([-1000]);
      expect(reportedFirmware()).toBe(FIRMWARE_VERSION);
    });

    it('keeps the old version after a power cut mid-download', async () => {
      const stalled: Server = createServer(() => undefined); // never answers: the download is in progress
      await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
      try {
        const d1 = await bootD1();
        await d1.waitForLcd('Enter phone number');
        const port = (stalled.address() as { port: number }).port;
        const { version, sha256, size, counter, signature } = signed().manifest;
        await kiosk.gateway.sendCommand('D1', {
          command_id: newId(),
          type: 'ota',
          version,
          url: `http://127.0.0.1:${port}/f.bin`,
          sha256,
          size,
          counter,
          signature,
        });
        await d1.waitForLcd('Updating firmware');
        expect(d1.valveOpen).toBe(false);
        await d1.powerCut();
        const rebooted = await bootD1();
        await rebooted.waitForLcd('Enter phone number');
        expect(reportedFirmware()).toBe(FIRMWARE_VERSION);
      } finally {
        stalled.closeAllConnections();
        stalled.close();
      }
    });
  });
}
