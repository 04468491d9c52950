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
    storage.set('pending', 'garbage');
    storage.set('config', '{"pulses_per_litre":0}');
    const store = new SessionStore(storage);
    expect(store.recoverFlight(1)).toBeUndefined();
    expect(store.pending()).toEqual([]);
    expect(store.loadConfig()).toBeUndefined();
    expect(storage.values.size).toBe(0);
  });
});
