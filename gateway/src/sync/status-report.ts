import gatewayPackage from '../../package.json' with { type: 'json' };
import type { KioskStatusReport } from '@tusafishe/protocol';
import type { FleetRollout } from '../firmware/fleet-rollout.js';
import type { HardwareSnapshot } from '../hardware/hardware-snapshot.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { AuthCounts } from './auth-counts.js';
import type { CloudClient } from './cloud-client.js';
import type { SyncStatus } from './sync-status.js';

/** Reports move sooner while a rollout progresses, but never more often than this. */
const MIN_GAP_MS = 2_000;

/** What this gateway runs: the balena release when set, else the package version. */
const GATEWAY_VERSION = process.env['GATEWAY_VERSION'] ?? gatewayPackage.version;

export interface StatusReportOptions {
  store: Store;
  client: Pick<CloudClient, 'status'>;
  sync: { status(): SyncStatus };
  hardware: { snapshot(): HardwareSnapshot } | null;
  authCounts: AuthCounts;
  fleet: Pick<FleetRollout, 'progress' | 'follow'>;
  /** `SYNC_STATUS_INTERVAL_S`: once a minute by default. */
  intervalMs: number;
  logger: Logger;
}

export interface StatusReports {
  /** Sends a report soon (rollout progress), at most every couple of seconds. */
  soon(): void;
  close(): Promise<void>;
}

function waterQuality(snapshot: HardwareSnapshot | undefined): KioskStatusReport['water_quality'] {
  const sensors = snapshot?.sensors.filter((s) => s.kind === 'quality' && s.status === 'ok') ?? [];
  if (sensors.length === 0) return 'unknown';
  return sensors.some((s) => s.inRange === false) ? 'unsafe' : 'ok';
}

function buildStatusReport(options: StatusReportOptions, now: number): KioskStatusReport {
  const snapshot = options.hardware?.snapshot();
  const level = snapshot?.tank.levelPct ?? null;
  const firmware = options.fleet.progress();
  return {
    at: now,
    gateway_version: GATEWAY_VERSION.slice(0, 64),
    events_waiting: Math.max(0, options.sync.status().events_waiting),
    dispensers: options.store.dispensers
      .list()
      .slice(0, 64)
      .map((d) => ({
        dispenser_id: d.dispenser_id,
        online: d.online,
        firmware: d.firmware?.slice(0, 32) ?? null,
        last_seen_at: d.last_seen_at,
      })),
    tank_level_pct: level === null ? null : Math.min(100, Math.max(0, level)),
    water_quality: waterQuality(snapshot),
    auth_counts: options.authCounts.unreported(),
    ...(firmware ? { firmware } : {}),
  };
}

/**
 * Sends the compact kiosk status with the sync (protocol/src/kiosk-status.ts) every interval, and
 * follows the fleet rollout its answer names. A failed report is retried at the next interval
 * (its hourly counts stay unsent until one is accepted); sync itself never waits for it.
 */
export function startStatusReports(options: StatusReportOptions): StatusReports {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let lastSent = 0;
  let sending: Promise<void> | null = null;
  let again = false;

  async function send(): Promise<void> {
    const now = Date.now();
    const report = buildStatusReport(options, now);
    try {
      const answer = await options.client.status(report, stop.signal);
      lastSent = Date.now();
      options.authCounts.reported(report.auth_counts, now);
      await options.fleet.follow(answer.firmware);
    } catch (error) {
      if (!stop.signal.aborted) options.logger.debug({ err: error }, 'kiosk status not sent; next interval retries');
    }
  }

  function schedule(delayMs: number): void {
    if (stop.signal.aborted) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      sending = send().finally(() => {
        sending = null;
        schedule(again ? MIN_GAP_MS : options.intervalMs);
        again = false;
      });
    }, delayMs);
  }

  schedule(0);
  return {
    soon() {
      if (stop.signal.aborted) return;
      if (sending) {
        again = true;
        return;
      }
      schedule(Math.max(0, lastSent + MIN_GAP_MS - Date.now()));
    },
    async close() {
      stop.abort();
      if (timer) clearTimeout(timer);
      await sending;
    },
  };
}
