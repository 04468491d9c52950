import { LitElement, css, html, type TemplateResult } from 'lit';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { analyticsApi } from '../console-api.js';

/** The previous month, `YYYY-MM`: the last one with every day in it. */
function lastMonth(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

/** A kiosk's or the fleet's monthly report as a PDF (opened by the browser, made by the cloud). */
export class ConsoleReportsPage extends LitElement {
  static override properties = { month: { state: true }, kiosk: { state: true } };
  declare month: string;
  declare kiosk: string;

  constructor() {
    super();
    this.month = lastMonth();
    this.kiosk = '';
  }

  override render(): TemplateResult {
    return html`
      <h2>Reports</h2>
      <section class="card">
        <h3>Monthly report (PDF)</h3>
        <p class="muted">Litres, dispenses, customers served, revenue per provider, authorisation success rate and
          denial reasons, uptime, alerts, and a chart of litres per day.</p>
        <div class="inline">
          <label>Month <input type="month" .value=${this.month} @input=${(e: Event) => (this.month = (e.target as HTMLInputElement).value)} /></label>
          <label>Kiosk <input placeholder="the whole fleet" .value=${this.kiosk} @input=${(e: Event) => (this.kiosk = (e.target as HTMLInputElement).value.trim())} /></label>
        </div>
        <a class="button" href=${analyticsApi.reportUrl(this.month, this.kiosk)} target="_blank" rel="noopener">Open PDF</a>
      </section>
    `;
  }

  static override styles = [
    sharedStyles,
    css`
      .inline { display: grid; gap: 8px; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); margin-bottom: 12px; }
    `,
  ];
}
customElements.define('console-reports-page', ConsoleReportsPage);
