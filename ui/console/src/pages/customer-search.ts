import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { CustomerSearchAnswer } from '@tusafishe/cloud/console-api';
import { dateTime, litres } from '../../../src/shared/display-format.js';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { customerApi } from '../console-api.js';
import { describeError } from './customer-errors.js';
import { statusBadge } from './customer-status.js';
import { tableStyles } from '../table-styles.js';

/**
 * Customer search: a phone in any form the keypad takes, an account id or a name; 25 a page
 * with previous/next, each row opening `#/customers/<id>`, and the whole search as CSV.
 */
export class CustomerSearch extends LitElement {
  static override properties = {
    query: { state: true },
    searched: { state: true },
    page: { state: true },
    answer: { state: true },
    error: { state: true },
    busy: { state: true },
  };
  declare query: string;
  /** The query of the results shown (paging and the CSV follow it, not the box being edited). */
  declare searched: string;
  declare page: number;
  declare answer: CustomerSearchAnswer | null;
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.query = '';
    this.searched = '';
    this.page = 1;
    this.answer = null;
    this.error = '';
    this.busy = false;
  }

  private async search(query: string, page: number): Promise<void> {
    if (!query) return;
    this.busy = true;
    try {
      this.answer = await customerApi.search(query, page);
      this.searched = query;
      this.page = page;
      this.error = '';
    } catch (error) {
      this.error = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  private results(answer: CustomerSearchAnswer): TemplateResult {
    if (answer.customers.length === 0)
      return html`<p class="muted" data-testid="no-customers">No customer matches.</p>`;
    const now = Date.now();
    const count = answer.customers.length;
    return html`
      <div class="row toolbar">
        <span class="muted">${count} customer${count === 1 ? '' : 's'}${answer.has_more || answer.page > 1 ? ` on page ${answer.page}` : ''}</span>
        <a class="button secondary" href=${customerApi.csvUrl(this.searched)} download="customers.csv">Download CSV</a>
      </div>
      <div class="scroll">
        <table data-testid="customer-results">
          <thead>
            <tr><th>Account</th><th>Name</th><th>Phone</th><th>Status</th><th class="n">Balance</th><th>PIN lockout</th></tr>
          </thead>
          <tbody>
            ${answer.customers.map(
              (c) => html`<tr data-account=${c.account_id}>
                <td><a href="#/customers/${c.account_id}">${c.account_id}</a></td>
                <td><a href="#/customers/${c.account_id}">${c.name}</a></td>
                <td>${c.phone}</td>
                <td>${statusBadge(c.status)}</td>
                <td class="n">${litres(c.balance_ml)}</td>
                <td>${c.locked_until !== null && c.locked_until > now ? html`<span class="badge bad">until ${dateTime(c.locked_until)}</span>` : '–'}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${
        answer.has_more || answer.page > 1
          ? html`<div class="pager">
              <button class="secondary" ?disabled=${this.page <= 1 || this.busy} @click=${() => this.search(this.searched, this.page - 1)}>Previous</button>
              <span class="muted">Page ${answer.page}</span>
              <button class="secondary" ?disabled=${!answer.has_more || this.busy} @click=${() => this.search(this.searched, this.page + 1)}>Next</button>
            </div>`
          : nothing
      }
    `;
  }

  override render(): TemplateResult {
    return html`
      <section class="card">
        <h2>Customers</h2>
        <form
          class="search"
          @submit=${(e: Event) => {
            e.preventDefault();
            void this.search(this.query.trim(), 1);
          }}
        >
          <label for="q">Phone, account id or name</label>
          <div class="line">
            <input
              id="q"
              type="search"
              autocomplete="off"
              placeholder="0712 345 678, TS12AB34, Wanjiru"
              maxlength="80"
              .value=${this.query}
              @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)}
            />
            <button type="submit" ?disabled=${this.busy || !this.query.trim()}>Search</button>
          </div>
        </form>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        ${this.answer ? this.results(this.answer) : nothing}
      </section>
    `;
  }

  static override styles = [
    sharedStyles,
    tableStyles,
    css`
      :host([hidden]) { display: none; }
      .line { display: flex; gap: 8px; }
      .toolbar { align-items: center; margin-top: 8px; }
    `,
  ];
}
customElements.define('console-customer-search', CustomerSearch);
