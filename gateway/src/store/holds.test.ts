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

describe('dispense sessions: open holds and settled sessions', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a hold until its dispense event settles it, then reads the session back from the event', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-holds-'));
    dirs.push(dir);
    const store = Store.open(dir);
    const now = Date.UTC(2026, 0, 15, 9);
    const hold = {
      session_id: newId(),
      request_id: newId(),
      dispenser_id: 'D1',
      account_id: 'TSF000101',
      approved_ml: 5000,
      created_at: now,
      hold_expires_at: now + 60_000,
    };
    const open = { ...hold, settled_at: null, event_id: null, delivered_ml: null };
    store.transaction(() => store.holds.open(open));
    expect(store.holds.find(hold.session_id)).toEqual(open);
    expect(store.holds.openHoldOn('D1', now)).toEqual(open);
    expect(store.holds.heldMlFor('TSF000101', now)).toBe(5000);
    // Expired, it holds nothing but is still found: a dispenser may report it after a power cut.
    expect(store.holds.heldMlFor('TSF000101', hold.hold_expires_at)).toBe(0);
    expect(store.holds.openHoldOn('D1', hold.hold_expires_at)).toBeUndefined();
    expect(store.holds.find(hold.session_id)).toEqual(open);

    const settledAt = now + 120_000;
    store.transaction(() =>
      store.ledger.append({
        event_id: 'e1',
        type: 'dispense',
        account_id: 'TSF000101',
        amount_ml: -4000,
        kiosk_id: 'K1',
        dispenser_id: 'D1',
        source_id: hold.session_id,
        occurred_at: settledAt,
        details: {
          request_id: hold.request_id,
          approved_ml: 5000,
          delivered_ml: 4000,
          settled_after_hold_expiry: true,
        },
      }),
    );
    // Settled by its event alone (no page of holds written); the row goes at the next approval.
    const rows = () => store.db.prepare('SELECT count(*) FROM holds').pluck().get();
    expect(rows()).toBe(1);
    expect(store.holds.openHoldOn('D1', now)).toBeUndefined();
    expect(store.holds.heldMlFor('TSF000101', now)).toBe(0);
    const next = { ...hold, session_id: newId(), request_id: newId(), hold_expires_at: settledAt + 60_000 };
    store.transaction(() => store.holds.open(next));
    expect(store.db.prepare('SELECT session_id FROM holds').pluck().all()).toEqual([next.session_id]);
    expect(store.holds.find(hold.session_id)).toEqual({
      ...hold,
      created_at: settledAt,
      hold_expires_at: settledAt,
      settled_at: settledAt,
      event_id: 'e1',
      delivered_ml: 4000,
    });
    expect(store.holds.find(newId())).toBeUndefined();
    store.close();
  });
});
