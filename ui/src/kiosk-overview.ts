import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { HardwareView, Overview, SyncView } from '../../gateway/src/ui-api/api-schemas.js';
import { api, ApiError } from './api-client.js';
import { ago, litres, signalBars } from './display-format.js';
import { onLiveMessage } from './live-feed-client.js';
import { sharedStyles } from './shared-styles.js';

const REFRESH_MS = 30_000;

/** The kiosk at a glance: dispensers, tank, water quality, pump/UV, modem, sync, alerts. */
export class KioskOverview extends LitElement {
  static override properties = { overview: { state: true }, error: { state: true } };
  declare overview: Overview | null;
  declare error: string | null;
  private unsubscribe: (() => void) | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.overview = null;
    this.error = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    // Status changes and dispenses arrive on the live feed; the timer refreshes "x s ago" and sensors.
    this.unsubscribe = onLiveMessage((message) => {
      if (message.type === 'dispenser-status' || message.type === 'dispense') void this.load();
    });
    this.timer = setInterval(() => void this.load(), REFRESH_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
    clearInterval(this.timer);
  }

  private async load(): Promise<void> {
    try {
      this.overview = await api.overview();
      this.error = null;
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The gateway did not answer';
    }
  }

  override render(): TemplateResult {
    const overview = this.overview;
    if (!overview) return html`${this.error ? html`<p class="error">${this.error}</p>` : html`<p class="muted">Loading…</p>`}`;
    const online = overview.dispensers.filter((d) => d.online).length;
    return html`
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      <section class="summary card">
        <div><span class="big">${online}/${overview.dispensers.length}</span><span class="muted">dispensers online</span></div>
        <div><span class="big" data-testid="today-litres">${litres(overview.today.dispensed_ml)}</span><span class="muted">today, ${overview.today.dispenses} dispenses</span></div>
        <div><span class="muted">Kiosk ${overview.kiosk_id}</span></div>
      </section>
      ${this.alerts(overview.hardware)}
      <h2>Dispensers</h2>
      <section class="grid">
        ${overview.dispensers.map(
          (d) => html`
            <a class="card dispenser" href="#/dispensers/${d.dispenser_id}" data-testid="dispenser-${d.dispenser_id}" data-online=${String(d.online)}>
              <div class="row"><strong>${d.dispenser_id}</strong><span class="badge ${d.online ? 'ok' : 'bad'}">${d.online ? 'online' : 'offline'}</span></div>
              <div class="muted">seen ${ago(d.last_seen_at, overview.now)}</div>
              <div class="muted">${signalBars(d.rssi_dbm)}</div>
              <div class="muted">${d.firmware ?? 'firmware ?'}${d.enabled ? '' : ' · disabled'}</div>
            </a>
          `,
        )}
      </section>
      <div class="two">
        ${this.hardware(overview.hardware)} ${this.sync(overview.sync)}
      </div>
    `;
  }

  private alerts(hardware: HardwareView | null): TemplateResult | typeof nothing {
    if (!hardware?.alerts.length) return nothing;
    return html`<section class="card alerts">
      <h3>Active alerts</h3>
      ${hardware.alerts.map((a) => html`<div class="row"><span class="badge bad">${a.code}</span><span>${a.message}</span><span class="muted">${ago(a.since)}</span></div>`)}
    </section>`;
  }

  private hardware(hardware: HardwareView | null): TemplateResult {
    if (!hardware) return html`<section class="card" data-testid="hardware"><h3>Tank and sensors</h3><p class="muted">No hardware data from this gateway.</p></section>`;
    const state = (value: string | null) => html`<span class="badge ${value === 'fault' || value === 'open' ? 'bad' : value === 'on' || value === 'closed' ? 'ok' : 'idle'}">${value ?? 'unknown'}</span>`;
    return html`<section class="card" data-testid="hardware">
      <h3>Tank and sensors</h3>
      ${hardware.tank
        ? html`<div class="row"><span>Tank</span><strong>${Math.round(hardware.tank.level_percent)} %${hardware.tank.litres === null ? '' : html` · ${Math.round(hardware.tank.litres)} L`}</strong></div>
            <div class="bar"><div style="width:${hardware.tank.level_percent}%"></div></div>`
        : html`<div class="row"><span>Tank</span><span class="muted">no sensor</span></div>`}
      <div class="row"><span>Water quality</span>${hardware.water_quality
          ? html`<span><span class="badge ${hardware.water_quality.ok ? 'ok' : 'bad'}">${hardware.water_quality.ok ? 'good' : 'alarm'}</span>
              <span class="muted">${hardware.water_quality.tds_ppm ?? '–'} ppm · ${hardware.water_quality.turbidity_ntu ?? '–'} NTU</span></span>`
          : html`<span class="muted">no sensor</span>`}</div>
      <div class="row"><span>Pump</span>${state(hardware.pump)}</div>
      <div class="row"><span>UV lamp</span>${state(hardware.uv)}</div>
      <div class="row"><span>Door</span>${state(hardware.door)}</div>
      <div class="row"><span>Modem</span><span>${hardware.modem ? html`${signalBars(hardware.modem.signal_dbm)} · ${hardware.modem.operator ?? 'no operator'}` : html`<span class="muted">no modem</span>`}</span></div>
    </section>`;
  }

  private sync(sync: SyncView | null): TemplateResult {
    if (!sync) return html`<section class="card" data-testid="sync"><h3>Cloud sync</h3><p class="muted">Sync is not running on this gateway.</p></section>`;
    return html`<section class="card" data-testid="sync">
      <h3>Cloud sync</h3>
      <div class="row"><span>Link</span><span class="badge ${!sync.enabled ? 'idle' : sync.online ? 'ok' : 'bad'}">${!sync.enabled ? 'disabled' : sync.online ? 'online' : 'offline'}</span></div>
      ${sync.offline_limit_active ? html`<div class="row"><span class="badge warn">offline daily limit applies</span></div>` : nothing}
      <div class="row"><span>Last pull</span><span>${ago(sync.last_pull_at)}</span></div>
      <div class="row"><span>Last push</span><span>${ago(sync.last_push_at)}</span></div>
      <div class="row"><span>Events waiting</span><strong>${sync.events_waiting}</strong></div>
      <div class="row"><span>Cursor</span><span class="muted">${sync.cursor ?? 'start'}</span></div>
      ${sync.last_error ? html`<p class="error">${sync.last_error}</p>` : nothing}
    </section>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .summary { display: flex; flex-wrap: wrap; gap: 16px; justify-content: space-between; align-items: center; }
      .summary div { display: flex; flex-direction: column; }
      .big { font-size: 1.6rem; font-weight: 700; }
      a.dispenser { color: inherit; text-decoration: none; margin: 0; }
      a.dispenser[data-online='false'] { border-left: 4px solid #d2453a; }
      a.dispenser[data-online='true'] { border-left: 4px solid #2e9e61; }
      .bar { height: 10px; background: #e6ebef; border-radius: 5px; overflow: hidden; margin-bottom: 6px; }
      .bar div { height: 100%; background: #1d8fc7; }
      .two { display: grid; gap: 12px; margin-top: 12px; }
      .alerts { border-left: 4px solid #d2453a; }
      @media (min-width: 900px) { .two { grid-template-columns: 1fr 1fr; } }
    `,
  ];
}
customElements.define('kiosk-overview', KioskOverview);
