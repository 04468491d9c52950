import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { CustomerEventsAnswer } from '@tusafishe/cloud/console-api';
import { dateTime, litres, money } from '../../../src/shared/display-format.js';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { customerApi } from '../console-api.js';
import { CUSTOMER_CHANGED } from './customer-actions.js';
import { describeError } from './customer-errors.js';
import { tableStyles } from '../table-styles.js';

type CustomerEvent = CustomerEventsAnswer['events'][number];

const TYPES: Record<string, string> = {
  topup: 'Top-up',
  dispense: 'Dispense',
  adjustment: 'Correction',
  reversal: 'Reversal',
  pin_lockout: 'PIN locked',
  pin_unlock: 'PIN unlocked',
};

/** What an event's details say to an agent: the payment, who corrected and why. */
function describe(event: CustomerEvent): string {
  const d = event.details ?? {};
  const text = (key: string): string | undefined => (typeof d[key] === 'string' ? (d[key] as string) : undefined);
  const parts: string[] = [];
  if (typeof d.amount_minor === 'number' && text('currency'))
    parts.push(`${money(d.amount_minor, text('currency') ?? '')}${text('provider') ? ` by ${text('provider')}` : ''}`);
  const reason = text('reason');
  if (reason) parts.push(`“${reason}”`);
  const who = text('operator') ?? text('technician');
  if (who) parts.push(`by ${who}`);
  return parts.join(' ');
}

/**
 * A customer's ledger history, newest first, 25 a page; for customer service and admin each
 * dispense not yet reversed can be given back (a `reversal` event), after a reason and a confirmation.
 */
export class CustomerEvents extends LitElement {
  static override properties = {
    accountId: { attribute: false },
    canAct: { attribute: false },
    revision: { attribute: false },
    page: { state: true },
    answer: { state: true },
    error: { state: true },
    reversing: { state: true },
    reversalError: { state: true },
    busy: { state: true },
  };
  declare accountId: string;
  declare canAct: boolean;
  /** Changed by the detail after an action: reload. */
  declare revision: number;
  declare page: number;
  declare answer: CustomerEventsAnswer | null;
  declare error: string;
  /** The dispense whose reversal is being asked for. */
  declare reversing: string;
  declare reversalError: string;
  declare busy: boolean;

  constructor() {
    super();
    this.accountId = '';
    this.canAct = false;
    this.revision = 0;
    this.page = 1;
    this.answer = null;
    this.error = '';
    this.reversing = '';
    this.reversalError = '';
    this.busy = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('accountId')) this.page = 1;
    if (changed.has('accountId') || changed.has('revision') || changed.has('page')) void this.load();
  }

  private async load(): Promise<void> {
    const [accountId, page] = [this.accountId, this.page];
    try {
      const answer = await customerApi.events(accountId, page);
      if (accountId !== this.accountId || page !== this.page) return; // a newer page was asked for meanwhile
      this.answer = answer;
      this.error = '';
    } catch (error) {
      this.error = describeError(error);
    }
  }

  private async reverse(event: CustomerEvent, reason: string): Promise<void> {
    if (reason.length < 3) {
      this.reversalError = 'Give a reason (at least 3 characters).';
      return;
    }
    this.busy = true;
    try {
      await customerApi.reverse(this.accountId, event.event_id, reason);
      this.reversing = '';
      this.reversalError = '';
      this.dispatchEvent(new Event(CUSTOMER_CHANGED, { bubbles: true, composed: true }));
    } catch (error) {
      this.reversalError = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  private reversalForm(event: CustomerEvent): TemplateResult {
    return html`<tr class="reversal">
      <td colspan="5">
        <form
          @submit=${(e: Event) => {
            e.preventDefault();
            const reason = (e.target as HTMLFormElement).querySelector('input')?.value.trim() ?? '';
            void this.reverse(event, reason);
          }}
        >
          <label for="reversal-reason">Give back ${litres(-event.amount_ml)} to the customer: why?</label>
          <input id="reversal-reason" maxlength="200" />
          <button ?disabled=${this.busy}>Confirm reversal</button>
          <button type="button" class="secondary" @click=${() => (this.reversing = '')}>Cancel</button>
          ${this.reversalError ? html`<p class="error" role="alert">${this.reversalError}</p>` : nothing}
        </form>
      </td>
    </tr>`;
  }

  private row(event: CustomerEvent): TemplateResult {
    const reversible = this.canAct && event.type === 'dispense' && event.reversed_by === null;
    return html`<tr data-event=${event.event_id} data-type=${event.type}>
        <td>${dateTime(event.occurred_at)}</td>
        <td>${TYPES[event.type] ?? event.type}${event.reversed_by ? html` <span class="badge idle">reversed</span>` : nothing}</td>
        <td class="n">${event.amount_ml === 0 ? '–' : `${event.amount_ml > 0 ? '+' : '−'}${litres(Math.abs(event.amount_ml))}`}</td>
        <td>${[event.kiosk_id, event.dispenser_id].filter(Boolean).join('/') || '–'} ${describe(event)}</td>
        <td>
          ${
            reversible && this.reversing !== event.event_id
              ? html`<button
                  class="secondary"
                  @click=${() => {
                    this.reversing = event.event_id;
                    this.reversalError = '';
                  }}
                >Reverse</button>`
              : nothing
          }
        </td>
      </tr>
      ${this.reversing === event.event_id ? this.reversalForm(event) : nothing}`;
  }

  override render(): TemplateResult {
    const answer = this.answer;
    return html`
      <section class="card" data-testid="customer-events">
        <h2>History</h2>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        ${answer === null ? html`<p class="muted">Loading…</p>` : nothing}
        ${answer?.events.length === 0 ? html`<p class="muted">No events yet.</p>` : nothing}
        ${
          answer && answer.events.length > 0
            ? html`<div class="scroll">
                <table>
                  <thead><tr><th>When</th><th>What</th><th class="n">Litres</th><th>Where, details</th><th></th></tr></thead>
                  <tbody>${answer.events.map((event) => this.row(event))}</tbody>
                </table>
              </div>`
            : nothing
        }
        ${
          answer && (answer.has_more || this.page > 1)
            ? html`<div class="pager">
                <button class="secondary" ?disabled=${this.page <= 1} @click=${() => (this.page -= 1)}>Newer</button>
                <span class="muted">Page ${answer.page}</span>
                <button class="secondary" ?disabled=${!answer.has_more} @click=${() => (this.page += 1)}>Older</button>
              </div>`
            : nothing
        }
      </section>
    `;
  }

  static override styles = [
    sharedStyles,
    tableStyles,
    css`
      th, td { padding: 6px; }
      td button { min-height: 0; padding: 4px 10px; }
      .reversal td { white-space: normal; background: #fff7e0; }
      .reversal form { max-width: 420px; }
    `,
  ];
}
customElements.define('console-customer-events', CustomerEvents);
