import { afterEach, beforeEach, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { attachToControlEndpoint } from '../src/host/control-endpoint.js';
import { controlFile } from '../src/host/simulated-dispenser.js';
import { KioskHarness, eventually } from './kiosk-harness.js';

let kiosk: KioskHarness;
beforeEach(async () => {
  kiosk = await KioskHarness.start();
});
afterEach(async () => {
  await kiosk.close();
});

it('lets a terminal drive the running simulated dispenser through its control endpoint', async () => {
  const d1 = await kiosk.dispenser('D1', { control: true });
  const file = controlFile(join(kiosk.dir, 'dispensers', 'D1'));
  const panel = await attachToControlEndpoint(file);
  if (!panel) throw new Error('control endpoint not found');
  await eventually(
    () => panel.view().lcd.some((line) => line.includes('Enter phone number')),
    'idle screen over the endpoint',
  );
  panel.press('0700000103#1234#A');
  await eventually(() => panel.view().lcd.some((line) => line.includes('Balance 19L')), 'purchase over the endpoint');
  expect(kiosk.dispenses('+254700000103').map((e) => e.amount_ml)).toEqual([-1000]);
  expect(panel.view().connected).toBe(true);

  panel.close();
  await d1.stop();
  expect(existsSync(file)).toBe(false);
  expect(await attachToControlEndpoint(file)).toBeUndefined();
});
