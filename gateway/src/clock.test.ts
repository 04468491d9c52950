import { describe, expect, it } from 'vitest';
import { KioskClock } from './clock.js';

/** A "not before" store that counts its writes (each one a WAL page on the SD card). */
function countingState() {
  const state = {
    value: null as number | null,
    writes: 0,
    notBefore: () => state.value,
    setNotBefore: (at: number) => {
      state.writes += 1;
      state.value = Math.max(state.value ?? 0, at);
    },
  };
  return state;
}

describe('kiosk clock', () => {
  it('anchors on every cloud answer but persists "not before" every five minutes, or at once when time moves', () => {
    const state = countingState();
    let mono = 0;
    const clock = new KioskClock(state, { wall: () => 0, mono: () => mono });
    const cloud = Date.UTC(2026, 10, 30, 8, 0, 0);
    clock.observeTrusted(cloud);
    expect(state.writes).toBe(1);
    for (let s = 1; s <= 120; s++) {
      mono = s * 1000;
      clock.observeTrusted(cloud + mono);
      clock.now();
    }
    expect(state.writes).toBe(1);
    expect(clock.now()).toBe(cloud + 120_000);
    // The cloud's time jumps (the kiosk's estimate was wrong): written at once.
    clock.observeTrusted(cloud + 10 * 60_000);
    expect(state.writes).toBe(2);
    mono += 5 * 60_000;
    clock.now();
    expect(state.writes).toBe(3);
    expect(state.value).toBe(cloud + 15 * 60_000);
  });
});
