import { DispenserConfig, type Heartbeat } from '@tusafishe/protocol';
import type { Db } from './database.js';

export interface DispenserRecord {
  dispenser_id: string;
  kiosk_id: string;
  secret_hash: string;
  config: DispenserConfig;
  online: boolean;
  firmware: string | null;
  last_seen_at: number | null;
  last_heartbeat: Heartbeat | null;
}

interface DispenserRow {
  dispenser_id: string;
  kiosk_id: string;
  secret_hash: string;
  pulses_per_litre: number;
  presets_ml: string;
  max_ml: number;
  no_flow_timeout_ms: number;
  enabled: number;
  online: number;
  firmware: string | null;
  last_seen_at: number | null;
  last_heartbeat: string | null;
}

function toRecord(row: DispenserRow): DispenserRecord {
  return {
    dispenser_id: row.dispenser_id,
    kiosk_id: row.kiosk_id,
    secret_hash: row.secret_hash,
    config: {
      kiosk_id: row.kiosk_id,
      pulses_per_litre: row.pulses_per_litre,
      presets_ml: JSON.parse(row.presets_ml) as number[],
      max_ml: row.max_ml,
      no_flow_timeout_ms: row.no_flow_timeout_ms,
      enabled: row.enabled === 1,
    },
    online: row.online === 1,
    firmware: row.firmware,
    last_seen_at: row.last_seen_at,
    last_heartbeat: row.last_heartbeat === null ? null : (JSON.parse(row.last_heartbeat) as Heartbeat),
  };
}

function configColumns(config: DispenserConfig) {
  return {
    kiosk_id: config.kiosk_id,
    pulses_per_litre: config.pulses_per_litre,
    presets_ml: JSON.stringify(config.presets_ml),
    max_ml: config.max_ml,
    no_flow_timeout_ms: config.no_flow_timeout_ms,
    enabled: config.enabled ? 1 : 0,
  };
}

/** Dispensers of this kiosk: broker credentials (hashed), config/calibration, last status. */
export class Dispensers {
  private readonly byId;
  private readonly insert;
  private readonly updateConfig;
  private readonly updateStatus;
  private readonly updateHeartbeat;

  constructor(private readonly db: Db) {
    this.byId = db.prepare<[string], DispenserRow>('SELECT * FROM dispensers WHERE dispenser_id = ?');
    this.insert =
      db.prepare(`INSERT INTO dispensers (dispenser_id, kiosk_id, secret_hash, pulses_per_litre, presets_ml, max_ml, no_flow_timeout_ms, enabled)
      VALUES (@dispenser_id, @kiosk_id, @secret_hash, @pulses_per_litre, @presets_ml, @max_ml, @no_flow_timeout_ms, @enabled)`);
    this.updateConfig =
      db.prepare(`UPDATE dispensers SET kiosk_id = @kiosk_id, pulses_per_litre = @pulses_per_litre, presets_ml = @presets_ml,
      max_ml = @max_ml, no_flow_timeout_ms = @no_flow_timeout_ms, enabled = @enabled WHERE dispenser_id = @dispenser_id`);
    this.updateStatus = db.prepare(
      'UPDATE dispensers SET online = @online, firmware = coalesce(@firmware, firmware), last_seen_at = @at WHERE dispenser_id = @dispenser_id',
    );
    this.updateHeartbeat = db.prepare(
      'UPDATE dispensers SET online = 1, firmware = @firmware, last_seen_at = @at, last_heartbeat = @heartbeat WHERE dispenser_id = @dispenser_id',
    );
  }

  add(dispenserId: string, secretHash: string, config: DispenserConfig): void {
    this.insert.run({
      dispenser_id: dispenserId,
      secret_hash: secretHash,
      ...configColumns(DispenserConfig.parse(config)),
    });
  }

  get(dispenserId: string): DispenserRecord | undefined {
    const row = this.byId.get(dispenserId);
    return row && toRecord(row);
  }

  list(): DispenserRecord[] {
    return this.db.prepare<[], DispenserRow>('SELECT * FROM dispensers ORDER BY dispenser_id').all().map(toRecord);
  }

  /** Validates and stores a dispenser's config; returns false for an unknown dispenser. */
  setConfig(dispenserId: string, config: DispenserConfig): boolean {
    return (
      this.updateConfig.run({ dispenser_id: dispenserId, ...configColumns(DispenserConfig.parse(config)) }).changes ===
      1
    );
  }

  setStatus(dispenserId: string, online: boolean, firmware: string | undefined, at: number): void {
    this.updateStatus.run({ dispenser_id: dispenserId, online: online ? 1 : 0, firmware: firmware ?? null, at });
  }

  recordHeartbeat(dispenserId: string, heartbeat: Heartbeat, at: number): void {
    this.updateHeartbeat.run({
      dispenser_id: dispenserId,
      firmware: heartbeat.firmware,
      heartbeat: JSON.stringify(heartbeat),
      at,
    });
  }
}

/** Config a newly added dispenser starts with, until a technician calibrates it. */
export function defaultDispenserConfig(kioskId: string, pulsesPerLitre: number): DispenserConfig {
  return {
    kiosk_id: kioskId,
    pulses_per_litre: pulsesPerLitre,
    presets_ml: [1000, 5000, 10_000, 20_000],
    max_ml: 20_000,
    no_flow_timeout_ms: 10_000,
    enabled: true,
  };
}
