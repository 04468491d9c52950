import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { CustomerView } from '@tusafishe/gateway/api';
import { api, ApiError } from './api-client.js';
import { dateTime, litres } from './shared/display-format.js';
import { sharedStyles } from './shared/shared-styles.js';

/** Find a customer by phone or account id; see balance, today's use and lockout; unlock with a reason. */
export class CustomerSearch extends LitElement {
  static override properties = {
    customer: { state: true },
    error: { state: true },
    notice: { state: true },
    busy: { state: true },
  };
  declare customer: CustomerView | null;
  declare error: string | null;
  declare notice: string | null;
  declare busy: boolean;

  constructor() {
    super();
    this.customer = null;
    this.error = null;
    this.notice = null;
    this.busy = false;
  }

  private async run(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = null;
    this.notice = null;
    try {
      await work();
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The gateway did not answer';
    } finally {
      this.busy = false;
    }
  }

  private search(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const query = String(new FormData(event.target as HTMLFormElement).get('q') ?? '');
    return this.run(async () => {
      this.customer = null;
      this.customer = await api.findCustomer(query);
    });
  }

  private unlock(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const reason = String(new FormData(form).get('reason') ?? '');
    const customer = this.customer;
    if (!customer) return Promise.resolve();
    return this.run(async () => {
      this.customer = await api.unlockCustomer(customer.account_id, reason);
      this.notice = this.customer.locked_until
        ? 'Kiosk lockout cleared, but the cloud still has this customer locked; it lifts when the cloud lockout ends.'
        : `${customer.name} can use the keypad again.`;
      form.reset();
    });
  }

  override render(): TemplateResult {
    return html`
      <h2>Customers</h2>
      <form class="card search" @submit=${this.search}>
        <label for="q">Phone number or account id</label>
        <div class="inline">
          <input id="q" name="q" inputmode="text" placeholder="0712 345 678 or TSF000101" required />
          <button type="submit" ?disabled=${this.busy}>Find</button>
        </div>
      </form>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="success" role="status">${this.notice}</p>` : nothing}
      ${this.customer ? this.card(this.customer) : nothing}
    `;
  }

  private card(c: CustomerView): TemplateResult {
    const overLimit = c.daily_limit_ml !== null && c.today_ml >= c.daily_limit_ml;
    return html`<section class="card" data-testid="customer">
      <div class="row"><strong>${c.name}</strong><span class="badge ${c.status === 'active' ? 'ok' : 'bad'}">${c.status}</span></div>
      <div class="row"><span>Account</span><span>${c.account_id}</span></div>
      <div class="row"><span>Phone</span><span>${c.phone}</span></div>
      <div class="row"><span>Balance</span><strong class=${c.balance_ml < 0 ? 'error' : ''}>${litres(c.balance_ml)}</strong></div>
      ${
        c.balance_known
          ? nothing
          : html`<p class="warn" data-testid="balance-unknown">Last known here: this kiosk does not follow this customer's balance and the cloud cannot be reached. Offline, they draw up to the offline daily limit.</p>`
      }
      <div class="row"><span>Used today</span><span>${litres(c.today_ml)}${c.daily_limit_ml === null ? '' : ` of ${litres(c.daily_limit_ml)}`}
        ${overLimit ? html`<span class="badge warn">limit reached</span>` : nothing}</span></div>
      <div class="row"><span>PIN lockout</span>
        <span data-testid="lock-state" class="badge ${c.locked_until ? 'bad' : 'ok'}">${c.locked_until ? `locked until ${dateTime(c.locked_until)}` : 'not locked'}</span></div>
      <div class="row"><span>Wrong PINs</span><span>${c.failed_pins}</span></div>
      ${
        c.locked_until
          ? html`<form class="unlock" @submit=${this.unlock}>
            <label for="reason">Reason for unlocking (kept in the audit log)</label>
            <input id="reason" name="reason" minlength="3" maxlength="200" required placeholder="e.g. customer showed ID" />
            <button type="submit" ?disabled=${this.busy}>Unlock</button>
          </form>`
          : nothing
      }
    </section>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .inline { display: flex; gap: 8px; }
      .unlock { margin-top: 12px; border-top: 1px solid #edf1f4; padding-top: 8px; }
      .unlock button { margin-top: 8px; width: 100%; }
      p.warn { padding: 6px 10px; border-radius: 6px; margin: 6px 0; }
    `,
  ];
}
customElements.define('customer-search', CustomerSearch);
