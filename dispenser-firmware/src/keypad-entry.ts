import type { Key } from './hal.js';

/** What a key did to a digit field. */
export type EntryOutcome = 'edited' | 'submit' | 'cancel' | 'ignored';

/**
 * A digit field on the keypad: digits append, `*` deletes the last digit (or cancels
 * when the field is already empty), `#` submits once the field holds `minLength` digits.
 */
export class DigitEntry {
  #digits = '';

  constructor(
    readonly minLength: number,
    readonly maxLength: number,
  ) {}

  get value(): string {
    return this.#digits;
  }

  press(key: Key): EntryOutcome {
    if (key >= '0' && key <= '9') {
      if (this.#digits.length >= this.maxLength) return 'ignored';
      this.#digits += key;
      return 'edited';
    }
    if (key === '*') {
      if (!this.#digits) return 'cancel';
      this.#digits = this.#digits.slice(0, -1);
      return 'edited';
    }
    if (key === '#') return this.#digits.length >= this.minLength ? 'submit' : 'ignored';
    return 'ignored';
  }
}

/** Letter keys pick presets in order: A = first preset, B = second… */
export function presetIndex(key: Key): number | undefined {
  const index = 'ABCD'.indexOf(key);
  return index < 0 ? undefined : index;
}
