import type { Check, DispenserConfig, SessionComplete, SessionEndReason } from '@tusafishe/protocol';
import {
  checkDispenserConfig,
  checkSessionComplete,
  checked,
  readFields,
  readInt,
  readList,
  readUuid,
} from '@tusafishe/protocol/dispenser';
import type { Storage } from './hal.js';
import { deliveredMillilitres } from './flow-calibration.js';

/*
 * Read back with the protocol's schema-free checks (zod's schemas do not fit the device's RAM);
 * the firmware's own records below with the same readers.
 */

/** The dispense in progress, written before the valve opens. */
export interface InFlightSession {
  session_id: string;
  request_id: string;
  approved_ml: number;
  /** The calibration the session started with; a config change mid-dispense does not alter it. */
  pulses_per_litre: number;
  started_at: number;
}
const checkFlight = checked((json): InFlightSession => {
  const m = readFields(json);
  return {
    session_id: readUuid(m.session_id, 'session_id'),
    request_id: readUuid(m.request_id, 'request_id'),
    approved_ml: readInt(m.approved_ml, 'approved_ml', 1, 100_000),
    pulses_per_litre: readInt(m.pulses_per_litre, 'pulses_per_litre', 1),
    started_at: readInt(m.started_at, 'started_at', 0),
  };
});

export interface Counters {
  dispenses: number;
  delivered_ml: number;
  errors: number;
}
const checkCounters = checked((json): Counters => {
  const m = readFields(json);
  return {
    dispenses: readInt(m.dispenses, 'dispenses', 0),
    delivered_ml: readInt(m.delivered_ml, 'delivered_ml', 0),
    errors: readInt(m.errors, 'errors', 0),
  };
});

/** Slot numbers of a queue's entries, oldest first. */
const checkSlots = checked((json) => readList(json, '(slots)', (slot, at) => readInt(slot, at, 0)));

const KEY = { flight: 'flight', pulses: 'pulses', config: 'config', counters: 'counters' } as const;

type Entry = [slot: number, completion: SessionComplete];

/**
 * A durable list of completions, one flash value per entry (an ESP32 NVS string holds at
 * most 4,000 bytes, so one value for the whole list would cap it) plus a small index of
 * slot numbers. An entry is written before the index names it and forgotten by the index
 * before it is removed, so a power cut between the two writes never loses an entry.
 */
class CompletionQueue {
  constructor(
    private readonly storage: Storage,
    private readonly index: string,
    private readonly prefix: string,
  ) {}

  all(): SessionComplete[] {
    return this.#entries().map((entry) => entry[1]);
  }

  /** Replaces an entry for the same session, so each session is held once. */
  put(completion: SessionComplete): void {
    const entries = this.#entries();
    const held = entries.find((entry) => entry[1].session_id === completion.session_id)?.[0];
    const slot = held ?? entries.reduce((next, entry) => Math.max(next, entry[0] + 1), 0);
    this.storage.set(this.prefix + slot, JSON.stringify(completion));
    if (held === undefined) this.#saveIndex([...entries, [slot, completion]]);
  }

  /** True when the session was held. */
  remove(sessionId: string): boolean {
    const entries = this.#entries();
    const entry = entries.find((candidate) => candidate[1].session_id === sessionId);
    if (!entry) return false;
    this.#saveIndex(entries.filter((other) => other !== entry));
    this.storage.remove(this.prefix + entry[0]);
    return true;
  }

  /** Oldest first; an entry that reads back corrupt is dropped (and leaves the index on the next write). */
  #entries(): Entry[] {
    return (readStored(this.storage, this.index, checkSlots) ?? []).flatMap((slot): Entry[] => {
      const completion = readStored(this.storage, this.prefix + slot, checkSessionComplete);
      return completion ? [[slot, completion]] : [];
    });
  }

  #saveIndex(entries: Entry[]): void {
    if (entries.length) this.storage.set(this.index, JSON.stringify(entries.map((entry) => entry[0])));
    else this.storage.remove(this.index);
  }
}

/**
 * Reads back what this dispenser wrote itself: validated, but not through the protocol's
 * MQTT payload cap (local storage has none). A corrupt entry is dropped, never trusted.
 */
function readStored<T>(storage: Storage, key: string, check: Check<T>): T | undefined {
  const raw = storage.get(key);
  if (raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = check(json);
  if (parsed.ok) return parsed.value;
  storage.remove(key);
  return undefined;
}

/**
 * What must survive a power cut: the session in flight with its pulse count, completions
 * the gateway has not acknowledged yet (however many), completions the gateway refused
 * (kept for the technician, no longer sent), the last config, the heartbeat counters.
 * Everything read back is validated; a corrupt entry is dropped, never trusted.
 */
export class SessionStore {
  readonly #pending: CompletionQueue;
  readonly #refused: CompletionQueue;

  constructor(private readonly storage: Storage) {
    this.#pending = new CompletionQueue(storage, 'pq', 'pc');
    this.#refused = new CompletionQueue(storage, 'rq', 'rc');
  }

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
    this.#pending.put(completion);
  }

  /** After a reboot: a session that was still flowing becomes a `power_loss` completion. */
  recoverFlight(now: number): SessionComplete | undefined {
    const flight = this.#read(KEY.flight, checkFlight);
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
    return this.#pending.all();
  }

  /** True when this ack settled a completion we still held. */
  acknowledge(sessionId: string): boolean {
    return this.#pending.remove(sessionId);
  }

  /**
   * The gateway refused the completion (it knows no such session): stop sending it, but keep
   * it, since water may have flowed; the gateway lists its copy for the technician.
   */
  refuse(sessionId: string): boolean {
    const completion = this.pending().find((c) => c.session_id === sessionId);
    if (!completion) return false;
    this.#refused.put(completion);
    return this.#pending.remove(sessionId);
  }

  refused(): SessionComplete[] {
    return this.#refused.all();
  }

  loadConfig(): DispenserConfig | undefined {
    return this.#read(KEY.config, checkDispenserConfig);
  }

  saveConfig(config: DispenserConfig): void {
    this.storage.set(KEY.config, JSON.stringify(config));
  }

  counters(): Counters {
    return this.#read(KEY.counters, checkCounters) ?? { dispenses: 0, delivered_ml: 0, errors: 0 };
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

  #read<T>(key: string, check: Check<T>): T | undefined {
    return readStored(this.storage, key, check);
  }
}
