import Digital from 'embedded:io/digital';
import Timer from 'timer';
import type { Key, Keypad } from '../hal.js';

const LAYOUT: readonly (readonly Key[])[] = [
  ['1', '2', '3', 'A'],
  ['4', '5', '6', 'B'],
  ['7', '8', '9', 'C'],
  ['*', '0', '#', 'D'],
];
const SCAN_MS = 10;
/** Scans a key must be seen held before it counts (30 ms debounce). */
const STABLE_SCANS = 3;

/** 4×4 matrix keypad: rows driven low one at a time, columns read with pull-ups. One event per press. */
export class MatrixKeypad implements Keypad {
  #listener: (key: Key) => void = () => undefined;
  #candidate: Key | undefined;
  #seen = 0;
  #reported = false;

  constructor(pins: { rows: readonly number[]; columns: readonly number[] }) {
    const rows = pins.rows.map((pin) => new Digital({ pin, mode: Digital.Output }));
    const columns = pins.columns.map((pin) => new Digital({ pin, mode: Digital.InputPullUp }));
    for (const row of rows) row.write(1);
    Timer.repeat(() => this.#settle(this.#scan(rows, columns)), SCAN_MS);
  }

  onKey(listener: (key: Key) => void): void {
    this.#listener = listener;
  }

  #scan(rows: Digital[], columns: Digital[]): Key | undefined {
    let pressed: Key | undefined;
    rows.forEach((row, r) => {
      row.write(0);
      columns.forEach((column, c) => {
        if (column.read() === 0) pressed ??= LAYOUT[r]?.[c];
      });
      row.write(1);
    });
    return pressed;
  }

  #settle(pressed: Key | undefined): void {
    if (pressed !== this.#candidate) {
      this.#candidate = pressed;
      this.#seen = 0;
      this.#reported = false;
      return;
    }
    if (pressed && !this.#reported && ++this.#seen >= STABLE_SCANS) {
      this.#reported = true;
      this.#listener(pressed);
    }
  }
}
