import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { CustomerDetailAnswer } from '@tusafishe/cloud/console-api';
import { litres } from '../../../src/shared/display-format.js';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { customerApi, type CustomerChange } from '../console-api.js';
import { describeError } from './customer-errors.js';

/** Fired (bubbling out of shadow roots) when an action changed the customer, so the detail and history reload. */
export const CUSTOMER_CHANGED = 'customer-changed';

const DAY_MS = 86_400_000;
type ActionKey = 'pin' | 'unlock' | 'limits' | 'extend' | 'phone' | 'correct' | 'status';

/** Litres typed in a form → whole mL (NaN when not a number). */
const toMl = (value: string): number => (value.trim() === '' ? Number.NaN : Math.round(Number(value) * 1000));

/**
 * What customer service (and admin) can do to one customer, each asked for confirmation first
 * and answered in place: PIN reset by SMS code, unlock, daily limit and kiosks, extend the
 * subscription, phone change confirmed by a code, a correction (capped by the cloud), deactivate.
 */
export class CustomerActions extends LitElement {
  static override properties = {
    customer: { attribute: false },
    pending: { state: true },
    result: { state: true },
    busy: { state: true },
    codeSentTo: { state: true },
  };
  declare customer: CustomerDetailAnswer;
  /** The action waiting for the agent's confirmation. */
  declare pending: { key: ActionKey; question: string; run: () => Promise<string> } | null;
  /** The last action's outcome, shown in that action's block. */
  declare result: { key: ActionKey; ok: boolean; text: string } | null;
  declare busy: boolean;
  /** Where the phone-change code went, while it waits to be typed back. */
  declare codeSentTo: string;

  constructor() {
    super();
    this.pending = null;
    this.result = null;
    this.busy = false;
    this.codeSentTo = '';
  }

  private value(name: string): string {
    return (this.renderRoot.querySelector<HTMLInputElement>(`[name="${name}"]`)?.value ?? '').trim();
  }

  /** Asks first; `question` says exactly what will happen. */
  private ask(key: ActionKey, question: string, run: () => Promise<string>): void {
    this.result = null;
    this.pending = { key, question, run };
  }

  private refuse(key: ActionKey, text: string): void {
    this.pending = null;
    this.result = { key, ok: false, text };
  }

  private async confirm(): Promise<void> {
    const pending = this.pending;
    if (!pending) return;
    await this.act(pending.key, pending.run);
  }

  private async act(key: ActionKey, run: () => Promise<string>): Promise<void> {
    this.busy = true;
    try {
      const text = await run();
      this.result = { key, ok: true, text };
      this.dispatchEvent(new Event(CUSTOMER_CHANGED, { bubbles: true, composed: true }));
    } catch (error) {
      this.result = { key, ok: false, text: describeError(error) };
    } finally {
      this.pending = null;
      this.busy = false;
    }
  }

  /** The confirmation and the outcome of `key`, shown under its form. */
  private outcome(key: ActionKey): TemplateResult | typeof nothing {
    if (this.pending?.key === key)
      return html`<div class="confirm" role="group" aria-label="Confirm">
        <p>${this.pending.question}</p>
        <button type="button" ?disabled=${this.busy} @click=${() => this.confirm()}>Confirm</button>
        <button type="button" class="secondary" ?disabled=${this.busy} @click=${() => (this.pending = null)}>Cancel</button>
      </div>`;
    if (this.result?.key === key)
      return this.result.ok
        ? html`<p class="success" role="status">${this.result.text}</p>`
        : html`<p class="error" role="alert">${this.result.text}</p>`;
    return nothing;
  }

  private submit(handler: () => void) {
    return (e: Event): void => {
      e.preventDefault();
      handler();
    };
  }

  private pinReset(c: CustomerDetailAnswer): void {
    this.ask('pin', `Send a one-time PIN reset code by SMS to ${c.phone}?`, async () => {
      await customerApi.pinReset(c.account_id);
      return `Code sent to ${c.phone}. The customer dials the USSD code, chooses 3 (PIN) and types the code instead of the old PIN.`;
    });
  }

  private unlock(c: CustomerDetailAnswer): void {
    const reason = this.value('unlock-reason');
    if (reason.length < 3) return this.refuse('unlock', 'Give a reason (at least 3 characters).');
    this.ask('unlock', `Clear ${c.name}'s PIN lockout at every kiosk?`, async () => {
      await customerApi.unlock(c.account_id, reason);
      return 'Unlocked: every kiosk learns it at its next sync.';
    });
  }

  private limits(c: CustomerDetailAnswer): void {
    const limitText = this.value('daily-limit');
    const limitMl = limitText === '' ? null : toMl(limitText);
    if (limitMl !== null && !(limitMl >= 0)) return this.refuse('limits', 'The daily limit is a number of litres.');
    const kioskText = this.value('kiosks');
    const kiosks = kioskText === '' ? null : kioskText.split(/[\s,]+/).filter(Boolean);
    if (kiosks?.some((k) => !/^[A-Za-z0-9_-]{1,32}$/.test(k)))
      return this.refuse('limits', 'Kiosk ids are letters, digits, - and _, separated by commas.');
    const change: CustomerChange = { daily_limit_ml: limitMl, allowed_kiosks: kiosks };
    const limitWords = limitMl === null ? 'no daily limit' : `a daily limit of ${litres(limitMl)}`;
    const kioskWords = kiosks === null ? 'every kiosk' : kiosks.join(', ');
    this.ask('limits', `Set ${limitWords} and allow ${kioskWords}?`, async () => {
      await customerApi.change(c.account_id, change);
      return `Saved: ${limitWords}, ${kioskWords}.`;
    });
  }

  private extend(c: CustomerDetailAnswer): void {
    const days = Number(this.value('extend-days'));
    if (!Number.isInteger(days) || days < 1 || days > 3660)
      return this.refuse('extend', 'Extend by a whole number of days (1 to 3660).');
    const expiresAt = Math.max(Date.now(), c.expires_at ?? Date.now()) + days * DAY_MS;
    const until = new Date(expiresAt).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
    this.ask('extend', `Extend the subscription by ${days} days, to ${until}?`, async () => {
      await customerApi.change(c.account_id, { expires_at: expiresAt });
      return `Extended to ${until}.`;
    });
  }

  private startPhoneChange(c: CustomerDetailAnswer): void {
    const phone = this.value('new-phone');
    if (phone.length < 6) return this.refuse('phone', 'Type the new number.');
    this.ask('phone', `Send a confirmation code to ${phone} to move ${c.name}'s account there?`, async () => {
      const { sent_to } = await customerApi.changePhone(c.account_id, phone);
      this.codeSentTo = sent_to;
      return `Code sent to ${sent_to}. Type the code the customer reads from it.`;
    });
  }

  private confirmPhoneChange(c: CustomerDetailAnswer): void {
    const code = this.value('phone-code');
    if (!/^[0-9]{6}$/.test(code)) return this.refuse('phone', 'The code has 6 digits.');
    void this.act('phone', async () => {
      const { phone } = await customerApi.confirmPhone(c.account_id, code);
      this.codeSentTo = '';
      return `The account now uses ${phone}.`;
    });
  }

  private correct(c: CustomerDetailAnswer): void {
    const amountMl = toMl(this.value('correction-litres'));
    const reason = this.value('correction-reason');
    if (!Number.isFinite(amountMl) || amountMl === 0)
      return this.refuse('correct', 'Type the litres to add (or, with a minus, to take away).');
    if (reason.length < 3) return this.refuse('correct', 'Give a reason (at least 3 characters).');
    const words = amountMl > 0 ? `Add ${litres(amountMl)} to` : `Take ${litres(-amountMl)} from`;
    this.ask('correct', `${words} ${c.name}'s balance (${reason})?`, async () => {
      await customerApi.correct(c.account_id, amountMl, reason);
      this.renderRoot.querySelector<HTMLFormElement>('form[data-action="correct"]')?.reset();
      return `Corrected by ${amountMl > 0 ? '+' : '−'}${litres(Math.abs(amountMl))}.`;
    });
  }

  private setStatus(c: CustomerDetailAnswer): void {
    const deactivate = c.status !== 'suspended';
    // Reactivated, an account that never set a PIN waits for one again.
    const status = deactivate ? 'suspended' : c.pin_set ? 'active' : 'inactive';
    const question = deactivate
      ? `Deactivate ${c.name}? No kiosk will dispense, and USSD and payments are refused, until reactivated.`
      : `Reactivate ${c.name}?`;
    this.ask('status', question, async () => {
      await customerApi.change(c.account_id, { status });
      return deactivate ? 'Deactivated at every kiosk.' : 'Reactivated.';
    });
  }

  override render(): TemplateResult {
    const c = this.customer;
    const locked = c.locked_until !== null && c.locked_until > Date.now();
    return html`
      <section class="card" data-testid="customer-actions">
        <h2>Actions</h2>
        <div class="actions">
          <div class="action" data-action="pin">
            <h3>PIN reset</h3>
            <p class="muted">The customer gets a one-time code by SMS and sets a new PIN on USSD. Nobody here sees a PIN.</p>
            <button ?disabled=${this.busy} @click=${() => this.pinReset(c)}>Send PIN reset code</button>
            ${this.outcome('pin')}
          </div>

          <form class="action" data-action="unlock" @submit=${this.submit(() => this.unlock(c))}>
            <h3>PIN lockout</h3>
            ${
              locked
                ? html`<label for="unlock-reason">Reason</label><input id="unlock-reason" name="unlock-reason" maxlength="200" />
                  <button ?disabled=${this.busy}>Unlock</button>`
                : html`<p class="muted">Not locked out.</p>`
            }
            ${this.outcome('unlock')}
          </form>

          <form class="action" data-action="limits" @submit=${this.submit(() => this.limits(c))}>
            <h3>Limits</h3>
            <label for="daily-limit">Daily limit, litres (empty: none)</label>
            <input id="daily-limit" name="daily-limit" type="number" min="0" step="any"
              .value=${c.daily_limit_ml === null ? '' : String(c.daily_limit_ml / 1000)} />
            <label for="kiosks">Allowed kiosks (empty: every kiosk)</label>
            <input id="kiosks" name="kiosks" placeholder="K1, K2" .value=${c.allowed_kiosks?.join(', ') ?? ''} />
            <button ?disabled=${this.busy}>Save limits</button>
            ${this.outcome('limits')}
          </form>

          <form class="action" data-action="extend" @submit=${this.submit(() => this.extend(c))}>
            <h3>Subscription</h3>
            <label for="extend-days">Extend by, days</label>
            <input id="extend-days" name="extend-days" type="number" min="1" max="3660" step="1" value="30" />
            <button ?disabled=${this.busy}>Extend</button>
            ${this.outcome('extend')}
          </form>

          <form class="action" data-action="correct" @submit=${this.submit(() => this.correct(c))}>
            <h3>Correction</h3>
            <label for="correction-litres">Litres (minus to take away)</label>
            <input id="correction-litres" name="correction-litres" type="number" step="any" />
            <label for="correction-reason">Reason</label>
            <input id="correction-reason" name="correction-reason" maxlength="200" />
            <button ?disabled=${this.busy}>Correct balance</button>
            ${this.outcome('correct')}
          </form>

          <form class="action" data-action="phone"
            @submit=${this.submit(() => (this.codeSentTo ? this.confirmPhoneChange(c) : this.startPhoneChange(c)))}>
            <h3>Phone number</h3>
            ${
              this.codeSentTo
                ? html`<label for="phone-code">Code sent to ${this.codeSentTo}</label>
                  <input id="phone-code" name="phone-code" inputmode="numeric" maxlength="6" autocomplete="off" />
                  <button ?disabled=${this.busy}>Confirm new number</button>
                  <button type="button" class="secondary" @click=${() => (this.codeSentTo = '')}>Cancel</button>`
                : html`<label for="new-phone">New number</label>
                  <input id="new-phone" name="new-phone" type="tel" maxlength="20" />
                  <button ?disabled=${this.busy}>Send code</button>`
            }
            ${this.outcome('phone')}
          </form>

          <div class="action" data-action="status">
            <h3>Account</h3>
            <button class=${c.status === 'suspended' ? '' : 'danger'} ?disabled=${this.busy} @click=${() => this.setStatus(c)}>
              ${c.status === 'suspended' ? 'Reactivate' : 'Deactivate'}
            </button>
            ${this.outcome('status')}
          </div>
        </div>
      </section>
    `;
  }

  static override styles = [
    sharedStyles,
    css`
      .actions { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }
      .action { border: 1px solid #e6ebef; border-radius: 10px; padding: 10px 12px; }
      .action button { margin-top: 8px; }
      .confirm { background: #fff7e0; border-radius: 8px; padding: 8px 10px; margin-top: 8px; }
      .confirm p { margin: 0 0 4px; }
      button.danger { background: #b3261e; }
    `,
  ];
}
customElements.define('console-customer-actions', CustomerActions);
