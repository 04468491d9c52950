import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { CustomerImportAnswer } from '@tusafishe/cloud/console-api';
import { litres } from '../../../src/shared/display-format.js';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { customerApi } from '../console-api.js';
import { describeError } from './customer-errors.js';
import { tableStyles } from '../table-styles.js';

const REGIONS = [
  { code: 'KE', label: 'Kenya (07…, 01…)' },
  { code: 'UG', label: 'Uganda (07…)' },
];

/**
 * Customers from a CSV file (a header row: `phone`, and `name`, `credit_ml`, `account_id` if
 * wanted): always a dry run first, whose report says what would happen line by line; only then
 * **Import**, which sends the same file for real and shows what was done.
 */
export class CustomerImport extends LitElement {
  static override properties = {
    file: { state: true },
    region: { state: true },
    report: { state: true },
    error: { state: true },
    busy: { state: true },
  };
  declare file: File | null;
  declare region: string;
  declare report: CustomerImportAnswer | null;
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.file = null;
    this.region = 'KE';
    this.report = null;
    this.error = '';
    this.busy = false;
  }

  /** A new file or region: its dry run has not been seen, so Import waits for one. */
  private choose(change: Partial<Pick<CustomerImport, 'file' | 'region'>>): void {
    Object.assign(this, change);
    this.report = null;
    this.error = '';
  }

  private async run(dryRun: boolean): Promise<void> {
    if (!this.file) return;
    this.busy = true;
    try {
      this.report = await customerApi.importCsv(this.file, { dryRun, region: this.region });
      this.error = '';
    } catch (error) {
      this.report = null;
      this.error = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  private lines(lines: CustomerImportAnswer['lines']): TemplateResult {
    return html`<div class="scroll"><table>
      <thead><tr><th>Line</th><th>Outcome</th><th>Phone</th><th>Account</th><th>Why, note</th></tr></thead>
      <tbody>${lines.map(
        (l) => html`<tr data-line=${l.line}>
          <td>${l.line}</td><td>${l.outcome.replace(/_/g, ' ')}</td><td>${l.phone ?? '–'}</td>
          <td>${l.account_id ?? '–'}</td><td>${l.message ?? l.account_id_note ?? ''}</td>
        </tr>`,
      )}</tbody>
    </table></div>`;
  }

  private reportView(report: CustomerImportAnswer): TemplateResult {
    const s = report.summary;
    const reasons = Object.entries(s.skipped_by_reason).map(
      ([reason, count]) => `${reason.replace(/_/g, ' ')} ${count}`,
    );
    const skipped = report.lines.filter((l) => l.outcome === 'skipped');
    return html`
      <div class=${s.dry_run ? 'dry report' : 'done report'} data-testid="import-report">
        <p>
          <strong>${s.dry_run ? `Dry run, nothing changed: ${s.imported} of ${s.read} would be imported` : `Imported ${s.imported} of ${s.read}`}</strong>
          · already imported ${s.already_imported} · skipped ${s.skipped}${reasons.length ? ` (${reasons.join(', ')})` : ''}
          · opening balances ${litres(s.opening_balance_ml)}${s.new_account_ids ? ` · new account ids ${s.new_account_ids}` : ''}
        </p>
        ${skipped.length ? html`<h3>Skipped lines</h3>${this.lines(skipped)}` : nothing}
        <details>
          <summary>Every line (${report.lines.length})</summary>
          ${this.lines(report.lines)}
        </details>
        ${
          s.dry_run && s.imported > 0
            ? html`<button ?disabled=${this.busy} @click=${() => this.run(false)}>Import ${s.imported} customer${s.imported === 1 ? '' : 's'}</button>`
            : nothing
        }
      </div>
    `;
  }

  override render(): TemplateResult {
    return html`
      <section class="card" data-testid="customer-import">
        <h2>Import customers from CSV</h2>
        <p class="muted">
          A header row names the columns: <code>phone</code> (required), <code>name</code>, <code>credit_ml</code>
          (opening balance, whole mL, within your correction cap), <code>account_id</code> (kept if free). Customers
          set their PIN on USSD. A phone already imported is not imported again.
        </p>
        <form
          @submit=${(e: Event) => {
            e.preventDefault();
            void this.run(true);
          }}
        >
          <div class="fields">
            <div>
              <label for="csv-file">CSV file</label>
              <input id="csv-file" type="file" accept=".csv,text/csv"
                @change=${(e: Event) => this.choose({ file: (e.target as HTMLInputElement).files?.[0] ?? null })} />
            </div>
            <div>
              <label for="csv-region">Local numbers are from</label>
              <select id="csv-region" @change=${(e: Event) => this.choose({ region: (e.target as HTMLSelectElement).value })}>
                ${REGIONS.map((r) => html`<option value=${r.code} ?selected=${r.code === this.region}>${r.label}</option>`)}
              </select>
            </div>
          </div>
          <button ?disabled=${!this.file || this.busy}>Check file (dry run)</button>
        </form>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        ${this.report ? this.reportView(this.report) : nothing}
      </section>
    `;
  }

  static override styles = [
    sharedStyles,
    tableStyles,
    css`
      :host([hidden]) { display: none; }
      .fields { display: grid; gap: 0 12px; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); }
      form button { margin-top: 10px; }
      .report { border-radius: 8px; padding: 8px 12px; margin-top: 12px; }
      .dry { background: #fff7e0; }
      .done { background: #d8f3e3; }
      summary { cursor: pointer; margin: 8px 0; }
      table { margin-bottom: 8px; }
      th, td { padding: 6px; white-space: normal; }
    `,
  ];
}
customElements.define('console-customer-import', CustomerImport);
