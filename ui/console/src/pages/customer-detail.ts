import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { CustomerDetailAnswer } from '@tusafishe/cloud/console-api';
import { dateTime, litres } from '../../../src/shared/display-format.js';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { customerApi } from '../console-api.js';
import { CUSTOMER_CHANGED } from './customer-actions.js';
import { describeError } from './customer-errors.js';
import { statusBadge } from './customer-status.js';
import './customer-actions.js';
import './customer-events.js';

/** A day with its year (subscription ends), in the browser's zone. */
const day = (at: number): string =>
  new Date(at).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });

/**
 * `#/customers/<id>`: balance, status, today's use against the daily limit, allowed kiosks,
 * subscription, PIN and lockout; the actions (customer service and admin) and the history.
 * Reloads itself and the history after each action.
 */
export class CustomerDetail extends LitElement {
  static override properties = {
    accountId: { attribute: false },
    canAct: { attribute: false },
    customer: { state: true },
    revision: { state: true },
    error: { state: true },
  };
  declare accountId: string;
  declare canAct: boolean;
  declare customer: CustomerDetailAnswer | null;
  /** Bumped after each action so the history reloads too. */
  declare revision: number;
  declare error: string;

  constructor() {
    super();
    this.accountId = '';
    this.canAct = false;
    this.customer = null;
    this.revision = 0;
    this.error = '';
    this.addEventListener(CUSTOMER_CHANGED, () => {
      this.revision += 1;
      void this.load();
    });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('accountId')) {
      this.customer = null;
      void this.load();
    }
  }

  private async load(): Promise<void> {
    const id = this.accountId;
    try {
      const customer = await customerApi.customer(id);
      if (id !== this.accountId) return;
      this.customer = customer;
      this.error = '';
    } catch (error) {
      this.error = describeError(error);
    }
  }

  private summary(c: CustomerDetailAnswer): TemplateResult {
    const now = Date.now();
    const locked = c.locked_until !== null && c.locked_until > now;
    const expired = c.expires_at !== null && c.expires_at <= now;
    return html`
      <section class="card" data-testid="customer-summary">
        <div class="row">
          <h2>${c.name} <span class="muted">${c.account_id}</span></h2>
          ${statusBadge(c.status)}
        </div>
        <div class="grid">
          <div><div class="muted">Balance</div><strong class="big" data-testid="balance">${litres(c.balance_ml)}</strong></div>
          <div><div class="muted">Phone</div>${c.phone}</div>
          <div>
            <div class="muted">Today</div>
            ${litres(c.used_today_ml)}${c.daily_limit_ml === null ? html` <span class="muted">(no daily limit)</span>` : ` of ${litres(c.daily_limit_ml)}`}
          </div>
          <div data-testid="allowed-kiosks">
            <div class="muted">Kiosks</div>
            ${c.allowed_kiosks === null ? 'every kiosk' : c.allowed_kiosks.length === 0 ? 'none' : c.allowed_kiosks.join(', ')}
          </div>
          <div data-testid="subscription">
            <div class="muted">Subscription</div>
            ${c.expires_at === null ? 'no end' : html`<span class=${expired ? 'badge bad' : ''}>${expired ? 'ended' : 'until'} ${day(c.expires_at)}</span>`}
          </div>
          <div data-testid="lockout">
            <div class="muted">PIN</div>
            ${
              locked
                ? html`<span class="badge bad">locked until ${dateTime(c.locked_until ?? now)}</span>`
                : c.pin_set
                  ? 'set'
                  : 'not set'
            }
            ${c.pin_failures > 0 ? html`<div class="muted">${c.pin_failures} wrong PIN${c.pin_failures === 1 ? '' : 's'}</div>` : nothing}
          </div>
          <div><div class="muted">Language</div>${c.language === 'sw' ? 'Kiswahili' : 'English'}</div>
        </div>
      </section>
    `;
  }

  override render(): TemplateResult {
    const c = this.customer;
    return html`
      <p><a href="#/customers">← Back to the search</a></p>
      ${this.error ? html`<p class="error card" role="alert">${this.error}</p>` : nothing}
      ${c ? this.summary(c) : this.error ? nothing : html`<p class="muted">Loading…</p>`}
      ${c && this.canAct ? html`<console-customer-actions .customer=${c}></console-customer-actions>` : nothing}
      ${
        c
          ? html`<console-customer-events
              .accountId=${c.account_id}
              .canAct=${this.canAct}
              .revision=${this.revision}
            ></console-customer-events>`
          : nothing
      }
    `;
  }

  static override styles = [sharedStyles, css`.big { font-size: 1.4rem; } h2 { margin: 0; }`];
}
customElements.define('console-customer-detail', CustomerDetail);
