import { performance } from 'node:perf_hooks';
import type { KioskState } from './store/kiosk-state.js';

/** Where time comes from; tests inject a wall clock that steps. */
export interface ClockSources {
  /** The system's wall clock (no RTC on a Pi: 1970 at boot, or stepped by NTP). */
  wall?: () => number;
  /** Monotonic ms: never steps. */
  mono?: () => number;
}

/** A wall clock this far behind the trusted time counts as wrong. */
const BEHIND_TOLERANCE_MS = 60_000;
/**
 * How often the kiosk's own "not before" is moved forward: each write is a WAL page on the SD card
 * (every minute would be ~6 MB a day); a power cut leaves the floor at most this far behind.
 */
const PERSIST_EVERY_MS = 5 * 60_000;

/**
 * The kiosk's time without a real-time clock. Durations come from the monotonic clock;
 * the wall time is trusted only as far as evidence allows: once the cloud's `Date` has
 * been seen, now = that time + monotonic time since; before that, now is never earlier
 * than the persisted "not before" (the last trusted time: the cloud's, or the kiosk's own
 * last write) plus the monotonic time since start. While the wall clock reads earlier than
 * that, `isBehind()` says so and the dispense flow keeps the offline limit in force.
 */
export class KioskClock {
  private readonly wall: () => number;
  private readonly mono: () => number;
  private anchor: { wall: number; mono: number } | null = null;
  private readonly floor: { wall: number; mono: number };
  private lastPersistMono = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly state: Pick<KioskState, 'notBefore' | 'setNotBefore'>,
    sources: ClockSources = {},
  ) {
    this.wall = sources.wall ?? Date.now;
    this.mono = sources.mono ?? (() => performance.now());
    this.floor = { wall: state.notBefore() ?? 0, mono: this.mono() };
  }

  /** Trusted epoch ms (see the class comment). */
  readonly now = (): number => {
    const mono = this.mono();
    // Whole ms: times are stored in INTEGER columns.
    const trusted = Math.floor(
      this.anchor
        ? this.anchor.wall + (mono - this.anchor.mono)
        : Math.max(this.wall(), this.floor.wall + (mono - this.floor.mono)),
    );
    if (mono - this.lastPersistMono >= PERSIST_EVERY_MS) {
      this.lastPersistMono = mono;
      this.persist(trusted);
    }
    return trusted;
  };

  /** Monotonic ms, for durations. */
  monotonic(): number {
    return this.mono();
  }

  /** The wall clock reads earlier than the trusted time (a Pi booted in 1970, or stepped back). */
  isBehind(): boolean {
    return this.wall() < this.now() - BEHIND_TOLERANCE_MS;
  }

  /** A time from a trusted source (the cloud's `Date` header, NTP): anchors `now` and moves "not before". */
  observeTrusted(at: number): void {
    if (!Number.isFinite(at)) return;
    const mono = this.mono();
    // Every cloud answer anchors the clock, but a commit per answer would be a write per dispense (SD-card
    // wear): "not before" is persisted on the usual cadence, or at once when the anchor moves time.
    const moved =
      this.anchor === null || Math.abs(at - (this.anchor.wall + (mono - this.anchor.mono))) > BEHIND_TOLERANCE_MS;
    this.anchor = { wall: at, mono };
    if (moved || mono - this.lastPersistMono >= PERSIST_EVERY_MS) {
      this.lastPersistMono = mono;
      this.persist(at);
    }
  }

  private persist(at: number): void {
    try {
      this.state.setNotBefore(at);
    } catch {
      // A full disk: kept in memory; the next persist tries again.
    }
  }
}

/** Wraps fetch so every answer's `Date` header (second precision) anchors the kiosk clock. */
export function observingServerTime(doFetch: typeof fetch, clock: KioskClock): typeof fetch {
  return async (input, init) => {
    const response = await doFetch(input, init);
    const date = response.headers.get('date');
    if (date) clock.observeTrusted(Date.parse(date));
    return response;
  };
}
