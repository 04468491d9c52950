import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findHeaderChip } from './gpio-chip-base.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** /sys/class/gpio as a Pi's kernel lays it out: one gpiochipN directory per controller. */
function sysfsTree(chips: { label: string; base: number; ngpio: number }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tusafishe-sysfs-gpio-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'export'), '');
  writeFileSync(join(dir, 'unexport'), '');
  for (const chip of chips) {
    const chipDir = join(dir, `gpiochip${chip.base}`);
    mkdirSync(chipDir);
    writeFileSync(join(chipDir, 'label'), `${chip.label}\n`);
    writeFileSync(join(chipDir, 'base'), `${chip.base}\n`);
    writeFileSync(join(chipDir, 'ngpio'), `${chip.ngpio}\n`);
  }
  return dir;
}

describe('the Pi header GPIO controller found by its sysfs label', () => {
  it('on a Pi 4 with kernel 6.6 or later: BCM 17 is sysfs 529', () => {
    const dir = sysfsTree([
      { label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
      { label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
    ]);
    expect(findHeaderChip(dir)).toEqual({ label: 'pinctrl-bcm2711', base: 512, ngpio: 58 });
  });

  it('on a Pi 5, past the SoC controllers that come first: base 571', () => {
    const dir = sysfsTree([
      { label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
      { label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4 },
      { label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17 },
      { label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6 },
      { label: 'pinctrl-rp1', base: 571, ngpio: 54 },
    ]);
    expect(findHeaderChip(dir)).toMatchObject({ label: 'pinctrl-rp1', base: 571 });
  });

  it('on a Pi 3 with an older kernel: base 0', () => {
    const dir = sysfsTree([
      { label: 'pinctrl-bcm2835', base: 0, ngpio: 54 },
      { label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8 },
    ]);
    expect(findHeaderChip(dir)).toMatchObject({ label: 'pinctrl-bcm2835', base: 0 });
  });

  it('says what it found when no Pi header controller is there, and when sysfs GPIO is missing', () => {
    const dir = sysfsTree([{ label: 'gpio-mockup-A', base: 512, ngpio: 8 }]);
    expect(() => findHeaderChip(dir)).toThrow(
      expect.objectContaining({ code: 'GPIO_CHIP_NOT_FOUND', message: expect.stringContaining('gpio-mockup-A@512') }),
    );
    expect(() => findHeaderChip(join(dir, 'absent'))).toThrow(
      expect.objectContaining({ code: 'GPIO_CHIP_NOT_FOUND', message: expect.stringContaining('does not exist') }),
    );
  });
});
