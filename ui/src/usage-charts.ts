import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { Usage } from '@tusafishe/gateway/api';
import { tankPolyline } from './card-logic.js';
import { api, ApiError } from './api-client.js';
import { isoDate, litres } from './shared/display-format.js';
import { onLiveMessage } from './live-feed-client.js';
import { barChart, barChartStyles } from './shared/bar-chart.js';
import { sharedStyles } from './shared/shared-styles.js';

const WIDTH = 320;
const HEIGHT = 140;
const PAD = 22;

/** Litres per hour of today or per day of the week. */
function bars(usage: Usage): TemplateResult {
  // Labels in the kiosk's zone: the technician's phone may be set to another one.
  const label = (start: number): string =>
    new Date(start).toLocaleString(
      'en-GB',
      usage.range === 'day'
        ? { hour: '2-digit', timeZone: usage.timezone }
        : { weekday: 'short', timeZone: usage.timezone },
    );
  return barChart(
    usage.buckets.map((b) => ({ label: label(b.start), ml: b.ml, title: `${label(b.start)}: ${litres(b.ml)}` })),
    `Litres per ${usage.range === 'day' ? 'hour' : 'day'}`,
    usage.range === 'day' ? 3 : 1,
  );
}

/** Line of tank level samples over the range. */
function tankLine(usage: Usage, tank: NonNullable<Usage['tank']>): TemplateResult {
  const points = tankPolyline(usage, tank, Date.now(), { width: WIDTH, height: HEIGHT, pad: PAD, top: 16 });
  return html`<svg viewBox="0 0 ${WIDTH} ${HEIGHT + 4}" role="img" aria-label="Tank level">
    <text x="0" y="10" class="axis">100%</text><text x="0" y=${HEIGHT} class="axis">0%</text>
    <line x1=${PAD} y1=${HEIGHT} x2=${WIDTH} y2=${HEIGHT} class="base"></line>
    <polyline points=${points} class="line"></polyline>
  </svg>`;
}

/** Litres per hour/day and per dispenser, tank level, and the CSV export. */
export class UsageCharts extends LitElement {
  static override properties = { range: { state: true }, usage: { state: true }, error: { state: true } };
  declare range: Usage['range'];
  declare usage: Usage | null;
  declare error: string | null;
  private unsubscribe: (() => void) | undefined;

  constructor() {
    super();
    this.range = 'day';
    this.usage = null;
    this.error = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.unsubscribe = onLiveMessage((message) => {
      if (message.type === 'dispense') void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private async load(): Promise<void> {
    try {
      this.usage = await api.usage(this.range);
      this.error = null;
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The gateway did not answer';
    }
  }

  private select(range: Usage['range']): void {
    this.range = range;
    void this.load();
  }

  private download(event: SubmitEvent): void {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    location.href = api.transactionsCsvUrl(String(form.get('from')), String(form.get('to')));
  }

  override render(): TemplateResult {
    const usage = this.usage;
    const today = isoDate(Date.now());
    const total = usage?.buckets.reduce((sum, b) => sum + b.ml, 0) ?? 0;
    const maxDispenser = Math.max(1, ...(usage?.by_dispenser.map((d) => d.ml) ?? []));
    return html`
      <h2>Usage</h2>
      <div class="tabs" role="tablist">
        <button class=${this.range === 'day' ? '' : 'secondary'} @click=${() => this.select('day')}>Today</button>
        <button class=${this.range === 'week' ? '' : 'secondary'} @click=${() => this.select('week')}>7 days</button>
      </div>
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      ${
        usage
          ? html`<div class="columns">
            <section class="card"><h3>Litres per ${usage.range === 'day' ? 'hour' : 'day'} · ${litres(total)}</h3>${bars(usage)}</section>
            <section class="card">
              <h3>Per dispenser</h3>
              ${
                usage.by_dispenser.length
                  ? usage.by_dispenser.map(
                      (d) =>
                        html`<div class="hbar"><span>${d.dispenser_id}</span><div><div style="width:${(d.ml / maxDispenser) * 100}%"></div></div><span>${litres(d.ml)}</span></div>`,
                    )
                  : html`<p class="muted">Nothing dispensed in this period.</p>`
              }
            </section>
            <section class="card">
              <h3>Tank level</h3>
              ${
                usage.tank === null
                  ? html`<p class="muted">No tank sensor on this gateway.</p>`
                  : usage.tank.length
                    ? tankLine(usage, usage.tank)
                    : html`<p class="muted">No tank readings yet.</p>`
              }
            </section>
          </div>`
          : html`<p class="muted">Loading…</p>`
      }
      <form class="card export" @submit=${this.download}>
        <h3>Export transactions (CSV)</h3>
        <div class="inline">
          <label>From <input type="date" name="from" value=${today} max=${today} required /></label>
          <label>To <input type="date" name="to" value=${today} max=${today} required /></label>
        </div>
        <button type="submit">Download CSV</button>
      </form>
    `;
  }

  static override styles = [
    sharedStyles,
    barChartStyles,
    css`
      .tabs { display: flex; gap: 8px; margin-bottom: 12px; }
      svg { width: 100%; height: auto; max-height: 260px; display: block; margin: 0 auto; }
      .line { fill: none; stroke: #0b6e99; stroke-width: 2; }
      .hbar { display: grid; grid-template-columns: 36px 1fr 64px; gap: 8px; align-items: center; padding: 4px 0; }
      .hbar > div { background: #e6ebef; height: 12px; border-radius: 6px; overflow: hidden; }
      .hbar > div > div { background: #2e9e61; height: 100%; }
      .hbar span:last-child { text-align: right; font-variant-numeric: tabular-nums; }
      .inline { display: flex; gap: 8px; }
      .inline label { flex: 1; }
      .export button { margin-top: 12px; }
      .columns { display: grid; gap: 12px; }
      @media (min-width: 900px) { .columns { grid-template-columns: 1fr 1fr; } .columns section:first-child { grid-column: 1 / -1; } }
    `,
  ];
}
customElements.define('usage-charts', UsageCharts);
