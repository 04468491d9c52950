import type { GpioChip } from './gpio-line.js';

/**
 * The Pi's GPIO through onoff (sysfs), or undefined where it is not accessible
 * (any machine that is not a Pi, or a container without /sys/class/gpio).
 * Loaded lazily: onoff pulls in the native epoll addon.
 */
export async function openOnoffChip(): Promise<GpioChip | undefined> {
  try {
    const { Gpio } = await import('onoff');
    if (!Gpio.accessible) return undefined;
    return { kind: 'onoff', open: (pin, direction, edge, options) => new Gpio(pin, direction, edge, options) };
  } catch {
    return undefined;
  }
}
