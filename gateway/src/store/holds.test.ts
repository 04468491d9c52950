import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { denialText, newId, type AuthResponse } from '@tusafishe/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from './store.js';

describe('stored authorisation decisions', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('answer a repeated request identically, each in its page with no overflow page (SD-card wear)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-holds-'));
    dirs.push(dir);
    const store = Store.open(dir);
    const approved: AuthResponse = {
      request_id: newId(),
      approved: true,
      session_id: newId(),
      approved_ml: 20_000,
      balance_ml: 1_234_567_890,
      hold_expires_at: Date.now() + 600_000,
    };
    // The longest denial (code and text), with attempts left.
    const reason = 'INSUFFICIENT_BALANCE';
    const denied: AuthResponse = {
      request_id: newId(),
      approved: false,
      reason,
      message: denialText(reason),
      attempts_left: 2,
    };
    store.transaction(() => {
      store.holds.recordDecision('D1-long-dispenser-id', approved, Date.now());
      store.holds.recordDecision('D1-long-dispenser-id', denied, Date.now());
    });
    expect(store.holds.findDecision(approved.request_id)).toEqual({
      dispenser_id: 'D1-long-dispenser-id',
      response: approved,
    });
    expect(JSON.stringify(store.holds.findDecision(denied.request_id)?.response)).toBe(JSON.stringify(denied));
    const overflow = store.db
      .prepare(`SELECT count(*) FROM dbstat WHERE name = 'auth_decisions' AND pagetype = 'overflow'`)
      .pluck()
      .get();
    expect(overflow).toBe(0);
    store.close();
  });
});
