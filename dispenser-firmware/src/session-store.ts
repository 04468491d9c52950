import * as z from 'zod/mini';
import {
  DispenseMillilitres,
  DispenserConfig,
  EpochMs,
  Id,
  SessionComplete,
  decodeMessage,
  type SessionEndReason,
} from '@tusafishe/protocol';
import type { Storage } from './hal.js';
import { deliveredMillilitres } from './flow-calibration.js';

/** The dispense in progress, written before the valve opens. */
const InFlightSession = z.object({
  session_id: Id,
  request_id: Id,
  approved_ml: DispenseMillilitres,
  /** The calibration the session started with; a config change mid-dispense does not alter it. */
  pulses_per_litre: z.int().check(z.minimum(1)),
  started_at: EpochMs,
});
export type InFlightSession = z.infer<typeof InFlightSession>;

const Counters = z.object({
  dispenses: z.int().check(z.minimum(0)),
  delivered_ml: z.int().check(z.minimum(0)),
  errors: z.int().check(z.minimum(0)),
});
export type Counters = z.infer<typeof Counters>;

const PendingCompletions = z.array(SessionComplete);

const KEY = { flight: 'flight', pulses: 'pulses', pending: 'pending', config: 'config', counters: 'counters' } as const;

/**
 * What must survive a power cut: the session in flight with its pulse count, completions
 * the gateway has not acknowledged yet, the last config, the heartbeat counters.
 * Everything read back is validated; a corrupt entry is dropped, never trusted.
 */
export class SessionStore {
  constructor(private readonly storage: Storage) {}

  beginFlight(session: InFlightSession): void {
    this.storage.set(KEY.pulses, '0');
    this.storage.set(KEY.flight, JSON.stringify(session));
  }

  recordPulses(pulses: number): void {
    this.storage.set(KEY.pulses, String(pulses));
  }

  /** The completion is stored before the flight is forgotten, so a cut between the two loses nothing. */
  finishFlight(completion: SessionComplete): void {
    this.addPending(completion);
    this.storage.remove(KEY.flight);
    this.storage.remove(KEY.pulses);
  }

  /** Kept until the gateway acknowledges it; one entry per session. */
  addPending(completion: SessionComplete): void {
    this.#savePending([...this.pending().filter((c) => c.session_id !== completion.session_id), completion]);
  }

  /** After a reboot: a session that was still flowing becomes a `power_loss` completion. */
  recoverFlight(now: number): SessionComplete | undefined {
    const flight = this.#read(KEY.flight, InFlightSession);
    if (!flight) return undefined;
    const pulses = Number.parseInt(this.storage.get(KEY.pulses) ?? '0', 10) || 0;
    const completion = this.pending().find((c) => c.session_id === flight.session_id) ?? {
      session_id: flight.session_id,
      request_id: flight.request_id,
      delivered_ml: deliveredMillilitres(pulses, flight.pulses_per_litre, flight.approved_ml),
      pulses,
      end_reason: 'power_loss' satisfies SessionEndReason,
      ended_at: now,
    };
    this.finishFlight(completion);
    return completion;
  }

  pending(): SessionComplete[] {
    return this.#read(KEY.pending, PendingCompletions) ?? [];
  }

  /** True when this ack settled a completion we still held. */
  acknowledge(sessionId: string): boolean {
    const pending = this.pending();
    const rest = pending.filter((c) => c.session_id !== sessionId);
    if (rest.length === pending.length) return false;
    this.#savePending(rest);
    return true;
  }

  loadConfig(): DispenserConfig | undefined {
    return this.#read(KEY.config, DispenserConfig);
  }

  saveConfig(config: DispenserConfig): void {
    this.storage.set(KEY.config, JSON.stringify(config));
  }

  counters(): Counters {
    return this.#read(KEY.counters, Counters) ?? { dispenses: 0, delivered_ml: 0, errors: 0 };
  }

  count(change: Partial<Counters>): void {
    const counters = this.counters();
    this.storage.set(
      KEY.counters,
      JSON.stringify({
        dispenses: counters.dispenses + (change.dispenses ?? 0),
        delivered_ml: counters.delivered_ml + (change.delivered_ml ?? 0),
        errors: counters.errors + (change.errors ?? 0),
      }),
    );
  }

  #savePending(completions: SessionComplete[]): void {
    if (completions.length) this.storage.set(KEY.pending, JSON.stringify(completions));
    else this.storage.remove(KEY.pending);
  }

  #read<S extends z.ZodMiniType>(key: string, schema: S): z.infer<S> | undefined {
    const raw = this.storage.get(key);
    if (raw === undefined) return undefined;
    const decoded = decodeMessage(schema, raw);
    if (decoded.ok) return decoded.value;
    this.storage.remove(key);
    return undefined;
  }
}
