import { isIPv4 } from 'node:net';

export interface AddressBudgetOptions {
  /** Events allowed per address within one window. */
  max: number;
  windowMs: number;
  /** Addresses tracked at most; beyond it the oldest windows are forgotten first. */
  maxAddresses?: number;
  now?: () => number;
}

/** `::ffff:10.0.0.5` and `10.0.0.5` are one client. */
export function normaliseAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIPv4(mapped) ? mapped : address.toLowerCase();
}

/**
 * A count of events (failed guesses, connection attempts) per client address in a fixed
 * window. In memory: a restart forgets it, which costs a guesser one window, not the kiosk
 * its disk. Bounded so a spray of spoofed or rotating addresses cannot grow it without end.
 */
export class AddressBudget {
  private readonly windows = new Map<string, { started: number; count: number }>();
  private readonly now: () => number;
  private readonly maxAddresses: number;

  constructor(private readonly options: AddressBudgetOptions) {
    this.now = options.now ?? (() => performance.now());
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  /** True while the address has budget left in its current window. */
  allows(address: string | undefined): boolean {
    return this.current(normaliseAddress(address)).count < this.options.max;
  }

  /** Counts one event; false when this one exceeds the budget. */
  spend(address: string | undefined): boolean {
    const key = normaliseAddress(address);
    const window = this.current(key);
    window.count += 1;
    // Re-inserted so the map's order stays oldest-first for eviction.
    this.windows.delete(key);
    this.windows.set(key, window);
    this.evict();
    return window.count <= this.options.max;
  }

  private current(key: string): { started: number; count: number } {
    const now = this.now();
    const window = this.windows.get(key);
    if (window && now - window.started < this.options.windowMs) return window;
    return { started: now, count: 0 };
  }

  private evict(): void {
    for (const key of this.windows.keys()) {
      if (this.windows.size <= this.maxAddresses) return;
      this.windows.delete(key);
    }
  }
}
