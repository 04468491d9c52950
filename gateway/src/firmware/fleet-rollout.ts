import type { FirmwareDirective, FirmwareProgress } from '@tusafishe/protocol';
import type { Database } from 'better-sqlite3';
import { GatewayError } from '../errors.js';
import type { EventScope } from '../events.js';
import type { Logger } from '../logger.js';
import type { TechnicianGateway } from '../ui-api/kiosk-port.js';
import type { FirmwareImages } from './firmware-images.js';
import type { FirmwareRollouts, RolloutRecord } from './firmware-rollouts.js';

type KioskState = FirmwareProgress['state'];

interface FleetRolloutRow {
  rollout_id: string;
  version: string;
  sha256: string;
  state: KioskState;
  message: string | null;
}

/** A dispenser that neither installs nor fails for this long is counted failed (it went silent mid-update). */
const STEP_TIMEOUT_MS = 10 * 60_000;
const UNDER_WAY = new Set(['pending', 'downloading', 'installed']);

export interface FleetRolloutDeps {
  gateway: TechnicianGateway;
  /** The owner's listeners (disposed when it stops). */
  events: EventScope;
  images: FirmwareImages;
  rollouts: FirmwareRollouts;
  /** Fetches a rollout's signed file from the cloud. */
  download(sha256: string): Promise<Buffer>;
  /** The gateway's base URL as its dispensers reach it; undefined when it cannot tell. */
  dispenserBaseUrl(): string | undefined;
  logger: Logger;
  /** Progress moved: the status report goes out soon rather than at the next minute. */
  onProgress(): void;
}

/**
 * This kiosk's part of a fleet firmware rollout. The cloud names the rollout in its status answer;
 * the gateway fetches the signed file (checked against the release key like a technician's
 * upload), then stages it over its dispensers one at a time — the first is the canary — through
 * the same per-dispenser update the technicians' UI uses, skipping a dispenser while it serves a
 * customer or is offline. A failed dispenser halts the kiosk's rollout; a rollout the cloud no
 * longer names is stopped (an update under way finishes).
 */
export class FleetRollout {
  readonly #db: Database;
  #busy = false;

  constructor(private readonly deps: FleetRolloutDeps) {
    this.#db = deps.gateway.store.db;
    // After the per-dispenser tracker (registered first) has recorded the report.
    const step = (): void => void this.step();
    deps.events.on('command-result', step);
    deps.events.on('dispenser-status', step);
  }

  #row(): FleetRolloutRow | undefined {
    return this.#db
      .prepare<[], FleetRolloutRow>(
        'SELECT rollout_id, version, sha256, state, message FROM fleet_rollout WHERE id = 1',
      )
      .get();
  }

  #set(row: FleetRolloutRow): void {
    const before = this.#row();
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO fleet_rollout (id, rollout_id, version, sha256, state, message, updated_at)
         VALUES (1, @rollout_id, @version, @sha256, @state, @message, @updated_at)`,
      )
      .run({ ...row, updated_at: Date.now() });
    if (before?.state !== row.state || before.message !== row.message || before.rollout_id !== row.rollout_id) {
      this.deps.logger.info({ rollout: row }, 'fleet firmware rollout');
      this.deps.onProgress();
    }
  }

  /** Follows the cloud's answer: start, keep going, or stop. */
  async follow(directive: FirmwareDirective | null): Promise<void> {
    const row = this.#row();
    if (!directive) {
      if (row && (row.state === 'downloading' || row.state === 'rolling' || row.state === 'done'))
        this.#set({ ...row, state: 'stopped', message: 'stopped by an operator' });
      return;
    }
    if (row?.rollout_id !== directive.rollout_id) {
      const { rollout_id, version, sha256 } = directive;
      this.#set({ rollout_id, version, sha256, state: 'downloading', message: null });
    }
    await this.step();
  }

  /** One move of the staged rollout; safe to call at any time. */
  async step(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const row = this.#row();
      if (row?.state === 'downloading') await this.#download(row);
      const current = this.#row();
      if (current?.state === 'rolling' || current?.state === 'done') await this.#stage(current);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'fleet firmware rollout step failed; retried on the next report');
    } finally {
      this.#busy = false;
    }
  }

  async #download(row: FleetRolloutRow): Promise<void> {
    if (!this.deps.images.bySha(row.sha256)) {
      const file = await this.deps.download(row.sha256);
      try {
        const { image } = this.deps.images.add(file, null);
        if (image.sha256 !== row.sha256 || image.version !== row.version)
          throw new GatewayError('INVALID_FIRMWARE', `the cloud sent ${image.version}, not ${row.version}`);
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        return this.#set({ ...row, state: 'failed', message: error.message });
      }
    }
    this.#set({ ...row, state: 'rolling', message: null });
  }

  #stepOf(dispenserId: string, row: FleetRolloutRow): RolloutRecord | undefined {
    const step = this.deps.rollouts.get(dispenserId);
    return step?.sha256 === row.sha256 ? step : undefined;
  }

  async #stage(row: FleetRolloutRow): Promise<void> {
    const { store } = this.deps.gateway;
    const dispensers = store.dispensers.list();
    const now = Date.now();
    for (const dispenser of dispensers) {
      const step = this.#stepOf(dispenser.dispenser_id, row);
      if (step && UNDER_WAY.has(step.state) && now - step.updated_at < STEP_TIMEOUT_MS) return; // one at a time
      // A dispenser that was busy (serving, not configured yet) refused the update: it is asked again.
      if (step?.state === 'failed' && /^busy\b/.test(step.message ?? '')) continue;
      if (step && (step.state === 'failed' || UNDER_WAY.has(step.state))) {
        const why = step.state === 'failed' ? (step.message ?? 'update failed') : 'no answer from the dispenser';
        return this.#set({ ...row, state: 'failed', message: `${dispenser.dispenser_id}: ${why}` });
      }
    }
    const waiting = dispensers.filter((d) => d.firmware !== row.version);
    const reachable = waiting.filter((d) => d.online);
    if (reachable.length === 0) {
      // Offline dispensers are updated when they return, while the rollout is still named.
      const message = waiting.length > 0 ? `${waiting.length} offline dispenser(s) not updated yet` : null;
      return this.#set({ ...row, state: 'done', message });
    }
    const base = this.deps.dispenserBaseUrl();
    if (!base) return this.#set({ ...row, message: 'waiting for an address dispensers reach: set GATEWAY_PUBLIC_URL' });
    const image = this.deps.images.bySha(row.sha256);
    if (!image) return this.#set({ ...row, state: 'downloading', message: 'image missing; fetching it again' });
    for (const dispenser of reachable) {
      try {
        await this.deps.rollouts.start(dispenser.dispenser_id, image, `${base}/firmware/${image.sha256}.bin`, null);
        if (row.state !== 'rolling') this.#set({ ...row, state: 'rolling', message: null });
        this.deps.onProgress();
        return;
      } catch (error) {
        // Dispensing right now (or just went offline): the next one, or this one at a later step.
        if (!(error instanceof GatewayError)) throw error;
      }
    }
  }

  /** What the status report says about the rollout; undefined when this kiosk never had one. */
  progress(): FirmwareProgress | undefined {
    const row = this.#row();
    if (!row) return undefined;
    return {
      rollout_id: row.rollout_id,
      state: row.state,
      message: row.message?.slice(0, 300) ?? null,
      dispensers: this.deps.gateway.store.dispensers.list().map((dispenser) => {
        const step = this.#stepOf(dispenser.dispenser_id, row);
        if (step)
          return {
            dispenser_id: dispenser.dispenser_id,
            state: step.state,
            message: step.message?.slice(0, 300) ?? null,
          };
        const state = dispenser.firmware === row.version ? 'confirmed' : 'waiting';
        return { dispenser_id: dispenser.dispenser_id, state, message: null };
      }),
    };
  }
}
