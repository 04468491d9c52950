import type { DispenserRecord } from '../store/dispensers.js';
import type { Store } from '../store/store.js';
import type { DispenserDetail, DispenserSummary, RecentDispense } from './api-schemas.js';

function summarise(record: DispenserRecord): DispenserSummary {
  return {
    dispenser_id: record.dispenser_id,
    online: record.online,
    enabled: record.config.enabled,
    firmware: record.firmware ?? record.last_heartbeat?.firmware ?? null,
    last_seen_at: record.last_seen_at,
    rssi_dbm: record.last_heartbeat?.rssi_dbm ?? null,
    pulses_per_litre: record.config.pulses_per_litre,
  };
}

export function listDispensers(store: Store): DispenserSummary[] {
  return store.dispensers.list().map(summarise);
}

// The ledger keeps the dispenser's pulse count in the dispense event's details.
const SELECT_DISPENSES = `SELECT source_id AS session_id, account_id, -amount_ml AS delivered_ml,
  json_extract(details, '$.pulses') AS pulses, occurred_at FROM ledger_events
  WHERE type = 'dispense' AND dispenser_id = ?`;

function recentDispenses(store: Store, dispenserId: string, limit = 5): RecentDispense[] {
  return store.db.prepare(`${SELECT_DISPENSES} ORDER BY seq DESC LIMIT ?`).all(dispenserId, limit) as RecentDispense[];
}

export function findDispense(store: Store, dispenserId: string, sessionId: string): RecentDispense | null {
  const row = store.db.prepare(`${SELECT_DISPENSES} AND source_id = ?`).get(dispenserId, sessionId) as
    | RecentDispense
    | undefined;
  return row ?? null;
}

export function dispenserDetail(store: Store, dispenserId: string): DispenserDetail | null {
  const record = store.dispensers.get(dispenserId);
  if (!record) return null;
  const heartbeat = record.last_heartbeat;
  return {
    ...summarise(record),
    presets_ml: record.config.presets_ml,
    max_ml: record.config.max_ml,
    heartbeat: heartbeat && {
      uptime_s: heartbeat.uptime_s,
      free_heap: heartbeat.free_heap,
      dispenses: heartbeat.dispenses,
      delivered_ml: heartbeat.delivered_ml,
      errors: heartbeat.errors,
      state: heartbeat.state ?? null,
    },
    recent_dispenses: recentDispenses(store, dispenserId),
    refused_completions: store.refusedCompletions
      .forDispenser(dispenserId)
      .map(({ session_id, delivered_ml, end_reason, ended_at, reason, received_at }) => ({
        session_id,
        delivered_ml,
        end_reason,
        ended_at,
        reason,
        received_at,
      })),
  };
}
