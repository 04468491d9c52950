import { findHeaderChip } from './gpio-chip-base.js';
import { unavailableGpioChip, type GpioChip } from './gpio-line.js';

/**
 * The Pi's GPIO through onoff (sysfs); where it is not accessible (not a Pi, a container without
 * /sys/class/gpio, no Pi header controller) a chip whose lines fail, so the fault is seen.
 * Lines are opened by BCM (header) number; `base` (HW_GPIO_BASE) overrides the sysfs number of
 * line 0, found otherwise from the header controller's label (gpio-chip-base.ts).
 * Loaded lazily: onoff pulls in the native epoll addon.
 */
export async function openOnoffChip(base?: number, sysfsGpioDir?: string): Promise<GpioChip> {
  let Gpio: typeof import('onoff').Gpio;
  try {
    ({ Gpio } = await import('onoff'));
  } catch (error) {
    return unavailableGpioChip(`GPIO not accessible: onoff failed to load (${(error as Error).message})`);
  }
  if (!Gpio.accessible) return unavailableGpioChip('GPIO not accessible (no /sys/class/gpio)');
  let offset: number;
  try {
    offset = base ?? findHeaderChip(sysfsGpioDir).base;
  } catch (error) {
    return unavailableGpioChip((error as Error).message);
  }
  return { kind: 'onoff', open: (pin, direction, edge, options) => new Gpio(offset + pin, direction, edge, options) };
}
