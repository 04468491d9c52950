import { describe, expect, it } from 'vitest';
import { newId } from '@tusafishe/protocol';
import { SessionStore } from './session-store.js';
import { MemoryStorage } from '../test/fake-hal.js';

const flight = () => ({
  session_id: newId(),
  request_id: newId(),
  approved_ml: 5000,
  pulses_per_litre: 450,
  started_at: 1,
});

const completion = (pulses: number) => ({
  session_id: newId(),
  request_id: newId(),
  delivered_ml: pulses * 2,
  pulses,
  end_reason: 'target_reached' as const,
  ended_at: 1_764_000_000_000 + pulses,
});

describe('session store', () => {
  it('turns a session in flight into one power_loss completion, whatever happens around the reboot', () => {
    const storage = new MemoryStorage();
    const store = new SessionStore(storage);
    const session = flight();
    store.beginFlight(session);
    store.recordPulses(900);
    const completion = store.recoverFlight(42);
    expect(completion).toMatchObject({
      session_id: session.session_id,
      delivered_ml: 2000,
      pulses: 900,
      end_reason: 'power_loss',
      ended_at: 42,
    });
    expect(store.recoverFlight(43)).toBeUndefined();
    expect(store.pending()).toHaveLength(1);
    expect(store.acknowledge(session.session_id)).toBe(true);
    expect(store.acknowledge(session.session_id)).toBe(false);
    expect(store.pending()).toEqual([]);
  });

  it('keeps the completion already written when the power went between storing it and forgetting the flight', () => {
    const storage = new MemoryStorage();
    const store = new SessionStore(storage);
    const session = flight();
    store.beginFlight(session);
    store.addPending({
      session_id: session.session_id,
      request_id: session.request_id,
      delivered_ml: 5000,
      pulses: 2250,
      end_reason: 'target_reached',
      ended_at: 7,
    });
    expect(store.recoverFlight(99)).toMatchObject({ end_reason: 'target_reached', delivered_ml: 5000 });
    expect(store.pending()).toHaveLength(1);
  });

  it('drops corrupt entries instead of trusting them', () => {
    const storage = new MemoryStorage();
    storage.set('flight', '{"session_id":"not-a-uuid"}');
    storage.set('pq', 'garbage');
    storage.set('config', '{"pulses_per_litre":0}');
    const store = new SessionStore(storage);
    expect(store.recoverFlight(1)).toBeUndefined();
    expect(store.pending()).toEqual([]);
    expect(store.loadConfig()).toBeUndefined();
    expect(storage.values.size).toBe(0);
  });

  it('keeps 50 unacknowledged completions (far beyond one 4 KB value) across a reboot, in order', () => {
    const storage = new MemoryStorage();
    const written = Array.from({ length: 50 }, (_, i) => completion(i));
    const before = new SessionStore(storage);
    for (const c of written) before.addPending(c);
    expect(JSON.stringify(written).length).toBeGreaterThan(4096);
    const afterReboot = new SessionStore(storage);
    expect(afterReboot.pending()).toEqual(written);
    expect(afterReboot.acknowledge(written[7]!.session_id)).toBe(true);
    afterReboot.addPending(completion(50));
    expect(new SessionStore(storage).pending().map((c) => c.pulses)).toEqual([
      ...written.filter((_, i) => i !== 7).map((c) => c.pulses),
      50,
    ]);
  });

  it('keeps a completion the gateway refused, out of the queue that is sent', () => {
    const store = new SessionStore(new MemoryStorage());
    const refused = completion(1);
    store.addPending(refused);
    store.addPending(completion(2));
    expect(store.refuse(refused.session_id)).toBe(true);
    expect(store.pending().map((c) => c.pulses)).toEqual([2]);
    expect(store.refused()).toEqual([refused]);
    expect(store.refuse(refused.session_id)).toBe(false);
  });
});
