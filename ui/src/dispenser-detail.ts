import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { DispenserDetail as Detail, ValveTestResult } from '@tusafishe/gateway/api';
import { api, ApiError } from './api-client.js';
import { ago, litres, signalBars } from './shared/display-format.js';
import { onLiveMessage } from './live-feed-client.js';
import { sharedStyles } from './shared/shared-styles.js';
import './flow-calibration.js';
import './firmware-update.js';

/** One dispenser: firmware, signal, heartbeat counters, valve test, flow-meter calibration and firmware update. */
export class DispenserDetail extends LitElement {
  static override properties = {
    dispenserId: { type: String },
    detail: { state: true },
    error: { state: true },
    valve: { state: true },
    valveBusy: { state: true },
  };
  declare dispenserId: string;
  declare detail: Detail | null;
  declare error: string | null;
  declare valve: ValveTestResult | string | null;
  declare valveBusy: boolean;
  private unsubscribe: (() => void) | undefined;

  constructor() {
    super();
    this.dispenserId = '';
    this.detail = null;
    this.error = null;
    this.valve = null;
    this.valveBusy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe = onLiveMessage((message) => {
      if (
        (message.type === 'dispense' || message.type === 'dispenser-status') &&
        message.dispenser_id === this.dispenserId
      )
        void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('dispenserId')) {
      this.detail = null;
      void this.load();
    }
  }

  private async load(): Promise<void> {
    try {
      this.detail = await api.dispenser(this.dispenserId);
      this.error = null;
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The gateway did not answer';
    }
  }

  private async valveTest(): Promise<void> {
    const duration = Number(
      (this.renderRoot.querySelector('#valve-duration') as HTMLSelectElement | null)?.value ?? 2000,
    );
    this.valveBusy = true;
    try {
      this.valve = await api.valveTest(this.dispenserId, duration);
    } catch (error) {
      this.valve = error instanceof ApiError ? error.message : 'The gateway did not answer';
    } finally {
      this.valveBusy = false;
    }
  }

  override render(): TemplateResult {
    const d = this.detail;
    if (!d)
      return html`<a href="#/overview">← Kiosk</a>${this.error ? html`<p class="error">${this.error}</p>` : html`<p class="muted">Loading…</p>`}`;
    const hb = d.heartbeat;
    return html`
      <a href="#/overview">← Kiosk</a>
      <h2>Dispenser ${d.dispenser_id} <span class="badge ${d.online ? 'ok' : 'bad'}" data-testid="detail-online">${d.online ? 'online' : 'offline'}</span></h2>
      <div class="columns">
        <section class="card">
          <div class="row"><span>Firmware</span><span>${d.firmware ?? '–'}</span></div>
          <div class="row"><span>WiFi signal</span><span>${signalBars(d.rssi_dbm)}</span></div>
          <div class="row"><span>Last seen</span><span>${ago(d.last_seen_at)}</span></div>
          <div class="row"><span>Flow meter</span><strong data-testid="pulses-per-litre">${d.pulses_per_litre} pulses/L</strong></div>
          <div class="row"><span>Presets</span><span>${d.presets_ml.map(litres).join(' · ')}</span></div>
          ${
            hb
              ? html`<h3 class="sub">Last heartbeat</h3>
                <div class="row"><span>Uptime</span><span>${Math.floor(hb.uptime_s / 3600)} h ${Math.floor((hb.uptime_s % 3600) / 60)} min</span></div>
                <div class="row"><span>Dispenses (since boot)</span><span>${hb.dispenses}</span></div>
                <div class="row"><span>Delivered (since boot)</span><span>${litres(hb.delivered_ml)}</span></div>
                <div class="row"><span>Errors</span><span class="badge ${hb.errors ? 'warn' : 'ok'}">${hb.errors}</span></div>
                <div class="row"><span>Free memory</span><span>${Math.round(hb.free_heap / 1024)} KiB</span></div>
                ${hb.state ? html`<div class="row"><span>State</span><span>${hb.state}</span></div>` : nothing}`
              : html`<p class="muted">No heartbeat yet.</p>`
          }
          ${
            d.refused_completions.length
              ? html`<h3 class="sub">Unmatched dispenses (not charged)</h3>
                <p class="muted">The dispenser reported water for sessions this gateway never approved; check the meter and reconcile by hand.</p>
                ${d.refused_completions.map(
                  (r) =>
                    html`<div class="row" data-testid="refused-completion"><span>${new Date(r.ended_at).toLocaleString()} · ${r.end_reason} · ${r.reason}</span><strong>${litres(r.delivered_ml)}</strong></div>`,
                )}`
              : nothing
          }
        </section>
        <div>
          <section class="card">
            <h3>Valve test</h3>
            <p class="muted">Opens the valve briefly with no customer; the dispenser reports the flow it measured.</p>
            <div class="actions">
              <select id="valve-duration" aria-label="Valve open time">
                <option value="1000">1 s</option><option value="3000" selected>3 s</option><option value="10000">10 s</option>
              </select>
              <button ?disabled=${!d.online || this.valveBusy} @click=${this.valveTest}>Open valve</button>
            </div>
            ${this.valveMessage()}
          </section>
          <flow-calibration .dispenserId=${d.dispenser_id} .pulsesPerLitre=${d.pulses_per_litre} .dispenses=${d.recent_dispenses}
            @calibrated=${() => void this.load()}></flow-calibration>
          <firmware-update .dispenserId=${d.dispenser_id} .running=${d.firmware}></firmware-update>
        </div>
      </div>
    `;
  }

  private valveMessage(): TemplateResult | typeof nothing {
    if (this.valve === null) return nothing;
    if (typeof this.valve === 'string') return html`<p class="error">${this.valve}</p>`;
    const v = this.valve;
    return html`<p class=${v.ok ? 'success' : 'error'}>${v.ok ? 'Valve worked' : 'Valve test failed'}${v.delivered_ml === null ? '' : `: ${litres(v.delivered_ml)}`}${v.pulses === null ? '' : `, ${v.pulses} pulses`}${v.message ? ` (${v.message})` : ''}</p>`;
  }

  static override styles = [
    sharedStyles,
    css`
      h2 { margin-top: 10px; display: flex; align-items: center; gap: 10px; }
      h3.sub { margin: 12px 0 4px; font-size: 0.9rem; color: #5d6f7c; }
      .actions { display: flex; gap: 8px; }
      .actions select { flex: 1; }
      .columns { display: grid; gap: 12px; }
      @media (min-width: 900px) { .columns { grid-template-columns: 1fr 1fr; } }
    `,
  ];
}
customElements.define('dispenser-detail', DispenserDetail);
