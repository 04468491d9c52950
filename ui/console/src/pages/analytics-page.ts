import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { ConsoleAnalytics } from '@tusafishe/cloud/console-api';
import { ApiError } from '../../../src/shared/api-request.js';
import { barChart, barChartStyles } from '../../../src/shared/bar-chart.js';
import { litres, money } from '../../../src/shared/display-format.js';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { analyticsApi } from '../console-api.js';

const percent = (bp: number | null): string => (bp === null ? '–' : `${(bp / 100).toFixed(1)} %`);
const PROVIDERS: Record<string, string> = { mtn: 'MTN MoMo', airtel: 'Airtel Money', mpesa: 'M-Pesa' };

/** The fleet's day as `YYYY-MM-DD`, `daysAgo` days back. */
function fleetDay(timeZone: string, daysAgo = 0): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone }).format(Date.now() - daysAgo * 86_400_000);
}

/** Litres, revenue, customers, authorisations and uptime of a kiosk or the fleet, with charts and CSV. */
export class ConsoleAnalyticsPage extends LitElement {
  static override properties = { data: { state: true }, error: { state: true }, loading: { state: true } };
  declare data: ConsoleAnalytics | null;
  declare error: string | null;
  declare loading: boolean;
  // The last 30 days of the fleet's day (East Africa), until the operator picks others.
  private query = new URLSearchParams({
    from: fleetDay('Africa/Nairobi', 29),
    to: fleetDay('Africa/Nairobi'),
  });

  constructor() {
    super();
    this.data = null;
    this.error = null;
    this.loading = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    this.loading = true;
    try {
      this.data = await analyticsApi.analytics(this.query);
      this.error = null;
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The cloud did not answer';
    } finally {
      this.loading = false;
    }
  }

  private submit(event: SubmitEvent): void {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const kiosk = String(form.get('kiosk') ?? '').trim();
    this.query = new URLSearchParams({
      from: String(form.get('from')),
      to: String(form.get('to')),
      ...(kiosk ? { kiosk } : {}),
    });
    void this.load();
  }

  private csv(table: string): TemplateResult {
    return html`<a class="csv" href=${analyticsApi.csvUrl(table, this.query)} download>CSV</a>`;
  }

  override render(): TemplateResult {
    const d = this.data;
    return html`
      <h2>Analytics</h2>
      <form class="card filters" @submit=${this.submit}>
        <label>From <input type="date" name="from" .value=${this.query.get('from') ?? ''} required /></label>
        <label>To <input type="date" name="to" .value=${this.query.get('to') ?? ''} required /></label>
        <label>Kiosk <input name="kiosk" placeholder="all kiosks" .value=${this.query.get('kiosk') ?? ''} /></label>
        <button type="submit" ?disabled=${this.loading}>Show</button>
      </form>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${d ? this.figures(d) : this.error ? nothing : html`<p class="muted">Loading…</p>`}
    `;
  }

  private figures(d: ConsoleAnalytics): TemplateResult {
    const days = d.litres_per_day;
    const dayBars = days.map((day) => ({
      label: day.day.slice(8),
      ml: day.volume_ml,
      title: `${day.day}: ${litres(day.volume_ml)}, ${day.dispenses} dispenses`,
    }));
    const hourBars = (d.litres_per_hour ?? []).map((hour) => {
      const local = new Date(hour.hour).toLocaleString('en-GB', { hour: '2-digit', timeZone: d.time_zone });
      return { label: local, ml: hour.volume_ml, title: `${hour.hour}: ${litres(hour.volume_ml)}` };
    });
    const maxDenials = Math.max(1, ...d.authorisations.denials.map((r) => r.count));
    const worstUptime = [...d.uptime.kiosks].sort((a, b) => (a.uptime_bp ?? 0) - (b.uptime_bp ?? 0)).slice(0, 10);
    return html`
      <div class="grid totals">
        <section class="card"><h3>Litres</h3><p class="figure">${litres(d.totals.volume_ml)}</p></section>
        <section class="card"><h3>Dispenses</h3><p class="figure">${d.totals.dispenses.toLocaleString('en')}</p></section>
        <section class="card"><h3>Customers</h3><p class="figure">${d.totals.active_customers.toLocaleString('en')}</p></section>
        <section class="card"><h3>Authorised</h3><p class="figure">${percent(d.authorisations.success_rate_bp)}</p></section>
        <section class="card"><h3>Uptime</h3><p class="figure">${percent(d.uptime.uptime_bp)}</p></section>
      </div>
      <div class="columns">
        <section class="card wide">
          <h3>Litres per day ${this.csv('litres-per-day')}</h3>
          ${barChart(dayBars, 'Litres per day', Math.max(1, Math.ceil(days.length / 10)))}
        </section>
        ${
          d.litres_per_hour
            ? html`<section class="card wide">
              <h3>Litres per hour ${this.csv('litres-per-hour')}</h3>
              ${barChart(hourBars, 'Litres per hour', Math.max(1, Math.ceil(hourBars.length / 8)))}
            </section>`
            : nothing
        }
        <section class="card">
          <h3>Revenue ${this.csv('revenue-per-day')}</h3>
          ${
            d.revenue.length
              ? html`<table>
                <tr><th>Provider</th><th class="n">Payments</th><th class="n">Amount</th></tr>
                ${d.revenue.map(
                  (r) =>
                    html`<tr><td>${PROVIDERS[r.provider] ?? r.provider}</td><td class="n">${r.payments.toLocaleString('en')}</td><td class="n">${money(r.amount_minor, r.currency)}</td></tr>`,
                )}
              </table>`
              : html`<p class="muted">No payments in this range.</p>`
          }
        </section>
        <section class="card">
          <h3>Top customers ${this.csv('top-customers')}</h3>
          <table>
            <tr><th>Customer</th><th class="n">Dispenses</th><th class="n">Litres</th></tr>
            ${d.top_customers.map(
              (c) =>
                html`<tr><td>${c.name} <span class="muted">${c.account_id}</span></td><td class="n">${c.dispenses}</td><td class="n">${litres(c.volume_ml)}</td></tr>`,
            )}
          </table>
        </section>
        <section class="card">
          <h3>Denials ${this.csv('denials')}</h3>
          <p class="muted">${d.authorisations.approved.toLocaleString('en')} approved, ${d.authorisations.denied.toLocaleString('en')} denied</p>
          ${d.authorisations.denials
            .slice(0, 8)
            .map(
              (r) =>
                html`<div class="hbar"><span>${r.code}</span><div><div style="width:${(r.count / maxDenials) * 100}%"></div></div><span>${r.count.toLocaleString('en')}</span></div>`,
            )}
        </section>
        <section class="card">
          <h3>Uptime, lowest first ${this.csv('uptime')}</h3>
          <table>
            <tr><th>Kiosk</th><th class="n">Hours online</th><th class="n">Uptime</th></tr>
            ${worstUptime.map(
              (k) =>
                html`<tr><td>${k.kiosk_id}</td><td class="n">${k.contact_hours} / ${k.hours}</td><td class="n">${percent(k.uptime_bp)}</td></tr>`,
            )}
          </table>
        </section>
      </div>
    `;
  }

  static override styles = [
    sharedStyles,
    barChartStyles,
    css`
      .filters { display: grid; gap: 8px; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); align-items: end; }
      .filters label { margin: 0; }
      .totals .card { margin: 0; }
      .figure { font-size: 1.4rem; font-weight: 600; margin: 0; font-variant-numeric: tabular-nums; }
      .columns { display: grid; gap: 12px; margin-top: 12px; }
      .columns .card { margin: 0; overflow-x: auto; }
      @media (min-width: 900px) { .columns { grid-template-columns: 1fr 1fr; } .wide { grid-column: 1 / -1; } }
      h3 { display: flex; justify-content: space-between; align-items: baseline; }
      .csv { font-size: 0.8rem; font-weight: 400; }
      table { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
      th { text-align: left; color: #5d6f7c; font-weight: 600; }
      td, th { padding: 4px 6px 4px 0; }
      .n { text-align: right; font-variant-numeric: tabular-nums; }
      .hbar { display: grid; grid-template-columns: minmax(90px, 40%) 1fr 56px; gap: 8px; align-items: center; padding: 3px 0; font-size: 0.85rem; }
      .hbar > div { background: #e6ebef; height: 10px; border-radius: 5px; overflow: hidden; }
      .hbar > div > div { background: #c0392b; height: 100%; }
      .hbar span:last-child { text-align: right; font-variant-numeric: tabular-nums; }
    `,
  ];
}
customElements.define('console-analytics-page', ConsoleAnalyticsPage);
