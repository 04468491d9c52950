import I2C from 'embedded:io/i2c';
import Time from 'time';
import type { Lcd } from '../hal.js';

/** DDRAM address of each row of a 20×4 HD44780. */
const ROW_ADDRESS = [0x00, 0x40, 0x14, 0x54];
const BACKLIGHT = 0x08;
const ENABLE = 0x04;
const REGISTER_SELECT = 0x01;

/** 20×4 character LCD (HD44780) behind a PCF8574 I2C backpack, driven in 4-bit mode. */
export class Hd44780Lcd implements Lcd {
  readonly #bus: I2C;
  #shown: readonly string[] = [];

  constructor(pins: { data: number; clock: number; address: number }) {
    this.#bus = new I2C({ ...pins, hz: 100_000 });
    Time.delay(50);
    // Reset into 4-bit mode (datasheet figure 24), then 2-line mode, display on, cursor off, left to right.
    for (const nibble of [0x03, 0x03, 0x03, 0x02]) {
      this.#nibble(nibble << 4, 0);
      Time.delay(5);
    }
    for (const command of [0x28, 0x0c, 0x06, 0x01]) this.#byte(command, 0);
    Time.delay(2);
  }

  /** Rewrites only the rows that changed: I2C at 100 kHz takes ~5 ms per row. */
  show(lines: readonly string[]): void {
    lines.forEach((line, row) => {
      if (this.#shown[row] === line) return;
      this.#byte(0x80 | (ROW_ADDRESS[row] ?? 0), 0);
      for (let i = 0; i < line.length; i++) this.#byte(line.charCodeAt(i) & 0xff, REGISTER_SELECT);
    });
    this.#shown = [...lines];
  }

  #byte(value: number, mode: number): void {
    this.#nibble(value & 0xf0, mode);
    this.#nibble((value << 4) & 0xf0, mode);
  }

  #nibble(high: number, mode: number): void {
    const bits = high | mode | BACKLIGHT;
    this.#bus.write(Uint8Array.of(bits | ENABLE, bits));
  }
}
