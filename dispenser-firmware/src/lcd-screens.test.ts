import { describe, expect, it } from 'vitest';
import { LCD_COLUMNS, LCD_ROWS } from '@tusafishe/protocol';
import { deniedScreen, litres, pinScreen, screen, volumeScreen } from './lcd-screens.js';

describe('LCD screens', () => {
  it('always fills exactly 4 lines of 20 characters', () => {
    for (const lines of [
      screen(),
      screen('x'.repeat(30)),
      deniedScreen('Offline limit reached', 0),
      volumeScreen([1000, 5000, 10000, 20000], '25', 20000),
    ]) {
      expect(lines).toHaveLength(LCD_ROWS);
      for (const line of lines) expect(line).toHaveLength(LCD_COLUMNS);
    }
  });

  it('formats litres without ever rounding up', () => {
    expect([5000, 1500, 1234, 999, 20, 0].map(litres)).toEqual(['5L', '1.5L', '1.23L', '0.99L', '0.02L', '0L']);
  });

  it('masks the PIN', () => {
    expect(pinScreen(4)[1]?.trim()).toBe('****_');
  });
});
