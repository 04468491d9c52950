import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HardwareError } from '../hardware-error.js';

/**
 * Labels of the GPIO controller that drives a Raspberry Pi's 40-pin header: BCM2835/2837 (Pi 1–3,
 * Zero), BCM2711 (Pi 4, 400, CM4) and the RP1 south bridge (Pi 5, CM5).
 */
const HEADER_CHIP_LABELS = ['pinctrl-bcm2835', 'pinctrl-bcm2711', 'pinctrl-rp1'] as const;

export interface HeaderChip {
  label: string;
  /** sysfs number of header line (BCM GPIO) 0: 0 on old kernels, 512 (Pi 3/4) or 571 (Pi 5) from 6.6. */
  base: number;
  ngpio: number;
}

/**
 * Finds the header's GPIO controller in sysfs by its label, so BCM pin numbers map to the right
 * sysfs numbers on every Pi and kernel: the base moved from 0 to 512 with kernel 6.6, and the Pi 5's
 * RP1 sits after the SoC's own controllers (571). Throws GPIO_CHIP_NOT_FOUND, naming what it saw.
 */
export function findHeaderChip(sysfsGpioDir = '/sys/class/gpio'): HeaderChip {
  if (!existsSync(sysfsGpioDir)) {
    throw new HardwareError('GPIO_CHIP_NOT_FOUND', `${sysfsGpioDir} does not exist: sysfs GPIO is not available here`);
  }
  const chips = readdirSync(sysfsGpioDir)
    .filter((name) => /^gpiochip\d+$/.test(name))
    .map((name) => {
      const read = (file: string) => readFileSync(join(sysfsGpioDir, name, file), 'utf8').trim();
      return { label: read('label'), base: Number(read('base')), ngpio: Number(read('ngpio')) };
    });
  const header = chips.find((chip) => (HEADER_CHIP_LABELS as readonly string[]).includes(chip.label));
  if (!header || !Number.isSafeInteger(header.base) || header.base < 0) {
    const seen = chips.map((chip) => `${chip.label}@${chip.base}`).join(', ') || 'no gpiochip';
    throw new HardwareError(
      'GPIO_CHIP_NOT_FOUND',
      `no Raspberry Pi header GPIO controller (${HEADER_CHIP_LABELS.join(', ')}) in ${sysfsGpioDir}: found ${seen}`,
    );
  }
  return header;
}
