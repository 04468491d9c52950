import type { Logger } from 'pino';
import type { HardwareConfig } from '../config.js';
import type { AlertChange, HardwareAlert } from './alert-book.js';

const HOUR_MS = 3600_000;
const SMS_CHARS = 160;

export interface SmsAlerterDeps {
  send(to: string, text: string): Promise<unknown>;
  isCloudReachable(): boolean;
  now(): number;
  logger: Logger;
  kioskLabel: string;
}

/**
 * Texts technicians the alerts the cloud cannot hear about: once the cloud has
 * been unreachable for smsAfterOfflineMs, alerts raised since the link was lost
 * go out by SMS, several to a message. Each alert is texted at most once, the
 * same key not again within smsRepeatAfterMs (a flapping float switch is one
 * text), and at most smsMaxPerHour messages (attempts) go out an hour. An alert
 * that clears before its turn is not sent. While the cloud is reachable alerts
 * travel on the ledger/sync path only.
 */
export class SmsAlerter {
  private readonly pending = new Map<string, HardwareAlert>();
  private readonly lastSentByKey = new Map<string, number>();
  private attempts: number[] = [];
  private offlineSince: number | undefined;
  private sending = false;

  constructor(
    private readonly config: HardwareConfig['alerts'],
    private readonly deps: SmsAlerterDeps,
  ) {}

  onChange(change: AlertChange): void {
    if (change.kind === 'cleared') this.pending.delete(change.alert.id);
    else if (!this.deps.isCloudReachable() && this.config.technicianPhones.length > 0) {
      this.pending.set(change.alert.id, change.alert);
    }
  }

  /** Called on every rules evaluation; sends at most one message round. */
  async tick(): Promise<void> {
    const now = this.deps.now();
    if (this.deps.isCloudReachable()) {
      this.offlineSince = undefined;
      this.pending.clear();
      return;
    }
    this.offlineSince ??= now;
    if (this.sending || now - this.offlineSince < this.config.smsAfterOfflineMs) return;
    this.attempts = this.attempts.filter((at) => now - at < HOUR_MS);
    if (this.attempts.length >= this.config.smsMaxPerHour) return;
    const batch = this.nextBatch(now);
    if (batch.alerts.length === 0) return;
    this.sending = true;
    this.attempts.push(now);
    try {
      for (const to of this.config.technicianPhones) await this.deps.send(to, batch.text);
      for (const alert of batch.alerts) {
        this.pending.delete(alert.id);
        this.lastSentByKey.set(alert.key, now);
      }
      this.deps.logger.info({ alerts: batch.alerts.map((a) => a.key) }, 'alert SMS sent to technicians');
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'alert SMS failed; will retry');
    } finally {
      this.sending = false;
    }
  }

  /** Critical first, as many as fit one SMS; recently texted keys are dropped. */
  private nextBatch(now: number): { alerts: HardwareAlert[]; text: string } {
    for (const [id, alert] of this.pending) {
      const last = this.lastSentByKey.get(alert.key);
      if (last !== undefined && now - last < this.config.smsRepeatAfterMs) this.pending.delete(id);
    }
    const ordered = [...this.pending.values()].sort(
      (a, b) => Number(b.severity === 'critical') - Number(a.severity === 'critical') || a.raisedAt - b.raisedAt,
    );
    const minutes = Math.round((now - (this.offlineSince ?? now)) / 60_000);
    let text = `${this.deps.kioskLabel} (offline ${minutes} min):`;
    const alerts: HardwareAlert[] = [];
    for (const alert of ordered) {
      const next = `${text} ${alert.message}.`;
      if (next.length > SMS_CHARS && alerts.length > 0) break;
      text = next;
      alerts.push(alert);
    }
    return { alerts, text: text.slice(0, SMS_CHARS) };
  }
}
