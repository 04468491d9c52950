import { LitElement, css, html, type TemplateResult } from 'lit';
import type { ConsoleMe } from '@tusafishe/cloud/console-api';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { explainError, sessionApi } from '../console-api.js';
import { newPasswordFields, newPasswordProblem, OPERATOR_ERRORS, outcome, type Outcome } from './operator-forms.js';

/**
 * My password (`#/password`, every role, from the header's name): the current password, then the
 * new one twice. The cloud ends the operator's other sessions; this one stays signed in.
 */
export class PasswordPage extends LitElement {
  static override properties = {
    me: { attribute: false },
    path: { attribute: false },
    result: { state: true },
    busy: { state: true },
  };
  declare me: ConsoleMe;
  declare path: string[];
  declare result: Outcome;
  declare busy: boolean;

  constructor() {
    super();
    this.path = [];
    this.result = null;
    this.busy = false;
  }

  private async change(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
    const next = field('mine-password');
    const problem = newPasswordProblem(next, field('mine-repeat'));
    if (problem) return void (this.result = { ok: false, text: problem });
    this.busy = true;
    try {
      await sessionApi.changePassword(field('current-password'), next);
      form.reset();
      this.result = { ok: true, text: 'Password changed. Your other sessions have ended.' };
    } catch (error) {
      this.result = { ok: false, text: explainError(error, OPERATOR_ERRORS) };
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    return html`<section class="card" aria-label="My password">
      <h2>My password</h2>
      <p class="muted">Signed in as ${this.me.username}.</p>
      <form novalidate @submit=${(e: Event) => this.change(e)}>
        <label for="current-password">Current password</label>
        <input id="current-password" name="current-password" type="password" autocomplete="current-password" required />
        ${newPasswordFields('mine')}
        ${outcome(this.result)}
        <button type="submit" ?disabled=${this.busy}>Change password</button>
      </form>
    </section>`;
  }

  static override styles = [sharedStyles, css`form { max-width: 420px; } form button { margin-top: 8px; }`];
}
customElements.define('console-password-page', PasswordPage);
