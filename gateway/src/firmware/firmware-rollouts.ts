import type { Database } from 'better-sqlite3';
import { newId } from '@tusafishe/protocol';
import type { EventScope, GatewayEventMap } from '../events.js';
import type { TechnicianGateway } from '../ui-api/kiosk-port.js';
import { GatewayError } from '../errors.js';
import type { FirmwareImageRecord } from './firmware-images.js';

export type RolloutState = 'pending' | 'downloading' | 'installed' | 'confirmed' | 'failed';

export interface RolloutRecord {
  dispenser_id: string;
  command_id: string;
  version: string;
  sha256: string;
  state: RolloutState;
  message: string | null;
  started_by: string | null;
  started_at: number;
  updated_at: number;
}

/** States in which the dispenser may still report on the update. */
const UNDER_WAY: readonly RolloutState[] = ['pending', 'downloading', 'installed'];

/**
 * One firmware update per dispenser, followed from the `ota` command to the reboot:
 * the dispenser's heartbeat says it is updating (downloading), its CommandResult says
 * installed or failed, and its status after the reboot carrying the new version confirms it.
 * It follows the dispensers' reports between `listen()` and `unlisten()`.
 */
export class FirmwareRollouts {
  readonly #db: Database;
  readonly #gateway: TechnicianGateway;
  #listeners: EventScope | null = null;

  constructor(gateway: TechnicianGateway) {
    this.#gateway = gateway;
    this.#db = gateway.store.db;
  }

  listen(): void {
    if (this.#listeners) return;
    this.#listeners = this.#gateway.events.scope();
    this.#listeners.on('command-result', (result) => this.#onResult(result));
    this.#listeners.on('dispenser-status', (change) => this.#onStatus(change));
  }

  unlisten(): void {
    this.#listeners?.dispose();
    this.#listeners = null;
  }

  /** Sends the `ota` command; refused while a customer's dispense is open, offline, or already on that version. */
  async start(
    dispenserId: string,
    image: FirmwareImageRecord,
    url: string,
    technicianId: string | null,
  ): Promise<RolloutRecord> {
    const { store } = this.#gateway;
    const dispenser = store.dispensers.get(dispenserId);
    if (!dispenser) throw new GatewayError('UNKNOWN_DISPENSER', dispenserId);
    const now = Date.now();
    if (store.holds.openHoldOn(dispenserId, now)) {
      throw new GatewayError('DISPENSER_BUSY', dispenserId);
    }
    if (!dispenser.online) throw new GatewayError('DISPENSER_OFFLINE', dispenserId);
    if (dispenser.firmware === image.version) throw new GatewayError('FIRMWARE_CURRENT', dispenserId, image.version);
    const rollout: RolloutRecord = {
      dispenser_id: dispenserId,
      command_id: newId(),
      version: image.version,
      sha256: image.sha256,
      state: 'pending',
      message: null,
      started_by: technicianId,
      started_at: now,
      updated_at: now,
    };
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO firmware_rollouts (dispenser_id, command_id, version, sha256, state, message, started_by, started_at, updated_at)
         VALUES (@dispenser_id, @command_id, @version, @sha256, @state, @message, @started_by, @started_at, @updated_at)`,
      )
      .run(rollout);
    const { command_id, version, sha256 } = rollout;
    const { size, counter, signature } = image;
    await this.#gateway.sendCommand(dispenserId, {
      command_id,
      type: 'ota',
      version,
      url,
      sha256,
      size,
      counter,
      signature,
    });
    return rollout;
  }

  get(dispenserId: string): RolloutRecord | undefined {
    return this.#db.prepare('SELECT * FROM firmware_rollouts WHERE dispenser_id = ?').get(dispenserId) as
      | RolloutRecord
      | undefined;
  }

  #advance(rollout: RolloutRecord, state: RolloutState, message: string | null): void {
    this.#db
      .prepare('UPDATE firmware_rollouts SET state = ?, message = ?, updated_at = ? WHERE command_id = ?')
      .run(state, message, Date.now(), rollout.command_id);
  }

  #onResult({ dispenser_id, result }: GatewayEventMap['command-result'][0]): void {
    const rollout = this.get(dispenser_id);
    if (rollout?.command_id !== result.command_id || !UNDER_WAY.includes(rollout.state)) return;
    this.#advance(rollout, result.ok ? 'installed' : 'failed', result.message ?? null);
  }

  #onStatus({ dispenser_id, online, firmware, heartbeat }: GatewayEventMap['dispenser-status'][0]): void {
    const rollout = this.get(dispenser_id);
    if (!rollout || !online || !firmware || !UNDER_WAY.includes(rollout.state)) return;
    if (firmware === rollout.version) return this.#advance(rollout, 'confirmed', `running ${firmware}`);
    if (rollout.state === 'pending' && heartbeat?.state === 'updating')
      return this.#advance(rollout, 'downloading', null);
    // A fresh connection (status, not heartbeat) on the old version after "installed": the new image did not boot.
    if (rollout.state === 'installed' && !heartbeat) this.#advance(rollout, 'failed', `restarted on ${firmware}`);
  }
}
