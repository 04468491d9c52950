import { LCD_COLUMNS, LCD_ROWS } from '@tusafishe/protocol';
import { isKey, type Key, type Keypad, type Lcd } from '../hal.js';

/** The keypad and LCD of a simulated dispenser, driven by tests, the terminal or a control client. */
export class VirtualPanel implements Keypad, Lcd {
  #lines: readonly string[] = Array.from({ length: LCD_ROWS }, () => ' '.repeat(LCD_COLUMNS));
  /** A listener may return a promise: the key is handled when it settles (firmware in another process). */
  #keyListener: ((key: Key) => unknown) | undefined;
  readonly #changeListeners = new Set<() => void>();

  onKey(listener: (key: Key) => void): void {
    this.#keyListener = listener;
  }

  show(lines: readonly string[]): void {
    this.#lines = [...lines];
    this.changed();
  }

  lines(): string[] {
    return [...this.#lines];
  }

  /**
   * Presses each character in turn; throws for the whole string if any is not a keypad key.
   * Resolves once the firmware has handled every key.
   */
  press(keys: string): Promise<void> {
    const pressed = [...keys];
    const invalid = pressed.filter((key) => !isKey(key));
    if (invalid.length) throw new RangeError(`not keypad keys: ${invalid.join(' ')} (use 0-9 * # A-D)`);
    return Promise.all(pressed.map((key) => this.#keyListener?.(key as Key))).then(() => undefined);
  }

  /** Disconnects the keypad (power cut): presses do nothing until the next boot registers again. */
  unplug(): void {
    this.#keyListener = undefined;
  }

  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  changed(): void {
    for (const listener of this.#changeListeners) listener();
  }
}
