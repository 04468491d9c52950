import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { HardwareView, Overview, SyncView } from '@tusafishe/gateway/api';
import { syncErrorNotice } from './card-logic.js';
import { api, ApiError } from './api-client.js';
import { ago, litres, signalBars } from './shared/display-format.js';
import { onLiveMessage } from './live-feed-client.js';
import { sharedStyles } from './shared/shared-styles.js';

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
    if (!overview)
      return html`${this.error ? html`<p class="error">${this.error}</p>` : html`<p class="muted">Loading…</p>`}`;
    const online = overview.dispensers.filter((d) => d.online).length;
    return html`
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      <section class="summary card">
        <div><span class="big">${online}/${overview.dispensers.length}</span><span class="muted">dispensers online</span></div>
        <div><span class="big" data-testid="today-litres">${litres(overview.today.dispensed_ml)}</span><span class="muted">today, ${overview.today.dispenses} ${overview.today.dispenses === 1 ? 'dispense' : 'dispenses'}</span></div>
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
      ${hardware.alerts.map((a) => html`<div class="row"><span class="badge ${a.severity === 'critical' ? 'bad' : 'warn'}">${a.code}</span><span>${a.message}</span><span class="muted">${ago(a.since)}</span></div>`)}
    </section>`;
  }

  private hardware(hardware: HardwareView | null): TemplateResult {
    if (!hardware)
      return html`<section class="card" data-testid="hardware"><h3>Tank and sensors</h3><p class="muted">No hardware data from this gateway.</p></section>`;
    const badge = (text: string, tone: 'ok' | 'bad' | 'idle') => html`<span class="badge ${tone}">${text}</span>`;
    const { tank, water_quality: quality, modem } = hardware;
    return html`<section class="card" data-testid="hardware">
      <h3>Tank and sensors ${hardware.mode === 'simulated' ? html`<span class="badge idle">simulated</span>` : nothing}</h3>
      ${hardware.interlock ? html`<p class="error">Dispensing blocked: ${hardware.interlock}</p>` : nothing}
      <div class="row"><span>Tank</span><strong data-testid="tank-level">${tank.level_percent === null ? 'no reading' : `${Math.round(tank.level_percent)} %`}</strong></div>
      ${tank.level_percent === null ? nothing : html`<div class="bar"><div style="width:${Math.min(100, Math.max(0, tank.level_percent))}%"></div></div>`}
      <div class="row"><span>Float switches</span><span class="muted">low ${tank.low_float_wet ? 'wet' : 'dry'} · high ${tank.high_float_wet ? 'wet' : 'dry'}</span></div>
      <div class="row"><span>Water quality</span>${quality.ok === null ? html`<span class="muted">no sensor</span>` : badge(quality.ok ? 'good' : 'alarm', quality.ok ? 'ok' : 'bad')}</div>
      ${quality.readings.map(
        (r) =>
          html`<div class="row sub"><span>${r.sensor}</span><span class=${r.in_range === false ? 'error' : 'muted'}>${r.value === null ? r.status : `${r.value} ${r.unit}`}</span></div>`,
      )}
      <div class="row"><span>Pump</span>${badge(hardware.pump, hardware.pump === 'on' ? 'ok' : 'idle')}</div>
      <div class="row"><span>UV lamp</span>${badge(hardware.uv, hardware.uv === 'fault' ? 'bad' : hardware.uv === 'on' ? 'ok' : 'idle')}</div>
      <div class="row"><span>Door</span>${badge(hardware.door, hardware.door === 'open' ? 'bad' : 'ok')}</div>
      <div class="row"><span>Modem</span><span>${
        modem
          ? modem.state === 'ok'
            ? html`${signalBars(modem.signal_dbm)} · ${modem.operator ?? (modem.registered ? 'registered' : 'not registered')}`
            : badge(modem.state, 'bad')
          : html`<span class="muted">none fitted</span>`
      }</span></div>
    </section>`;
  }

  private sync(sync: SyncView | null): TemplateResult {
    if (!sync)
      return html`<section class="card" data-testid="sync"><h3>Cloud sync</h3><p class="muted">Sync is not running on this gateway.</p></section>`;
    const syncError = syncErrorNotice(sync);
    return html`<section class="card" data-testid="sync">
      <h3>Cloud sync</h3>
      <div class="row"><span>Link</span><span class="badge ${!sync.enabled ? 'idle' : sync.online ? 'ok' : 'bad'}">${!sync.enabled ? 'disabled' : sync.online ? 'online' : 'offline'}</span></div>
      ${sync.offline_limit_active ? html`<div class="row"><span class="badge warn">offline daily limit applies</span></div>` : nothing}
      <div class="row"><span>Last pull</span><span>${ago(sync.last_pull_at)}</span></div>
      <div class="row"><span>Last push</span><span>${ago(sync.last_push_at)}</span></div>
      <div class="row"><span>Events waiting</span><strong>${sync.events_waiting}</strong></div>
      <div class="row"><span>Cursor</span><span class="muted">${sync.cursor ?? 'start'}</span></div>
      ${syncError ? html`<p class=${syncError.alarm ? 'error' : 'muted'} data-testid="sync-error">${syncError.text}</p>` : nothing}
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
      .row.sub { padding-left: 12px; font-size: 0.9rem; }
      @media (min-width: 900px) { .two { grid-template-columns: 1fr 1fr; } }
    `,
  ];
}
customElements.define('kiosk-overview', KioskOverview);
