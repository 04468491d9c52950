import { describe, expect, it } from 'vitest';
import { DENIAL_REASONS, LCD_COLUMNS } from './denial-reasons.js';

describe('denial reasons', () => {
  it('each fits one LCD line (AuthDenied.message is at most 20 characters)', () => {
    for (const text of Object.values(DENIAL_REASONS)) expect(text.length, text).toBeLessThanOrEqual(LCD_COLUMNS);
  });
});
