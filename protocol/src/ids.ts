import { v7 } from 'uuid';

export interface IdOptions {
  /** 16 random bytes, for runtimes without `crypto.getRandomValues` (the device HAL supplies them). */
  random?: Uint8Array;
  /** Milliseconds since the epoch; defaults to now. */
  msecs?: number;
}

/**
 * A UUIDv7: globally unique and made where the record is born, time-ordered so
 * SQLite and Postgres indexes stay append-mostly.
 */
export function newId(options?: IdOptions): string {
  return options ? v7(options) : v7();
}
