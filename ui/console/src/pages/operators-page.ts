import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { ConsoleMe, OperatorListing, OperatorRole } from '@tusafishe/cloud/console-api';
import { ago, dateTime, timeOfDay } from '../../../src/shared/display-format.js';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { tableStyles } from '../table-styles.js';
import { explainError, operatorApi } from '../console-api.js';
import { ROLE_LABELS } from '../role-labels.js';
import { newPasswordFields, newPasswordProblem, OPERATOR_ERRORS, outcome, type Outcome } from './operator-forms.js';

/**
 * Operators (`#/operators`, admin): the console's accounts with their role, state and last sign-in
 * ("never" before the first); add one, disable (their sessions end at once) or enable, set a new
 * password (their sessions end too).
 * Each change is audited by the cloud under the admin's name.
 */
export class OperatorsPage extends LitElement {
  static override properties = {
    me: { attribute: false },
    path: { attribute: false },
    operators: { state: true },
    resetting: { state: true },
    listOutcome: { state: true },
    resetOutcome: { state: true },
    addOutcome: { state: true },
    busy: { state: true },
  };
  declare me: ConsoleMe;
  declare path: string[];
  declare operators: OperatorListing[] | null;
  /** Whose password the reset form is open for. */
  declare resetting: string | null;
  declare listOutcome: Outcome;
  declare resetOutcome: Outcome;
  declare addOutcome: Outcome;
  declare busy: boolean;

  constructor() {
    super();
    this.path = [];
    this.operators = null;
    this.resetting = null;
    this.listOutcome = null;
    this.resetOutcome = null;
    this.addOutcome = null;
    this.busy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.run((o) => (this.listOutcome = o), operatorApi.list);
  }

  private value(name: string): string {
    return this.renderRoot.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`)?.value ?? '';
  }

  /** Runs a call that answers the new list; reports a refusal (or `done`'s text) through `show`. */
  private async run(
    show: (outcome: Outcome) => void,
    call: () => Promise<{ operators: OperatorListing[] }>,
    done?: string,
  ): Promise<boolean> {
    this.busy = true;
    try {
      this.operators = (await call()).operators;
      show(done ? { ok: true, text: done } : null);
      return true;
    } catch (error) {
      show({ ok: false, text: explainError(error, OPERATOR_ERRORS) });
      return false;
    } finally {
      this.busy = false;
    }
  }

  private setDisabled(username: string, disabled: boolean): void {
    void this.run(
      (o) => (this.listOutcome = o),
      () => operatorApi.setDisabled(username, disabled),
      disabled ? `${username} is disabled: their sessions have ended.` : `${username} may sign in again.`,
    );
  }

  private openReset(username: string): void {
    this.resetting = username;
    this.resetOutcome = null;
  }

  private async reset(e: Event, username: string): Promise<void> {
    e.preventDefault();
    const password = this.value('reset-password');
    const problem = newPasswordProblem(password, this.value('reset-repeat'));
    if (problem) return void (this.resetOutcome = { ok: false, text: problem });
    const saved = await this.run(
      (o) => (o?.ok ? (this.listOutcome = o) : (this.resetOutcome = o)),
      () => operatorApi.resetPassword(username, password),
      `${username} has a new password; their sessions have ended.`,
    );
    if (saved) this.resetting = null;
  }

  private async add(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const username = this.value('add-username').trim();
    const password = this.value('add-password');
    const problem = newPasswordProblem(password, this.value('add-repeat'));
    if (problem) return void (this.addOutcome = { ok: false, text: problem });
    const role = this.value('add-role') as OperatorRole;
    const added = await this.run(
      (o) => (this.addOutcome = o),
      () => operatorApi.add(username, role, password),
      `${username} (${ROLE_LABELS[role]}) may now sign in.`,
    );
    if (added) form.reset();
  }

  private state(o: OperatorListing): TemplateResult {
    if (o.disabled) return html`<span class="badge bad">disabled</span>`;
    if (o.locked_until !== null && o.locked_until > Date.now())
      return html`<span class="badge warn">locked until ${timeOfDay(o.locked_until)}</span>`;
    return html`<span class="badge ok">active</span>`;
  }

  private row(o: OperatorListing): TemplateResult {
    const self = o.username === this.me.username;
    return html`<tr data-operator=${o.username}>
      <td><strong>${o.username}</strong>${self ? html` <span class="muted">(you)</span>` : nothing}</td>
      <td>${ROLE_LABELS[o.role]}</td>
      <td>${this.state(o)}</td>
      <td>${dateTime(o.created_at)}</td>
      <td class="last-sign-in">${ago(o.last_sign_in_at)}</td>
      <td class="actions">
        ${
          self
            ? nothing
            : html`<button class="secondary" ?disabled=${this.busy} @click=${() => this.setDisabled(o.username, !o.disabled)}>
                ${o.disabled ? 'Enable' : 'Disable'}
              </button>`
        }
        <button class="secondary" @click=${() => this.openReset(o.username)}>
          Set password
        </button>
      </td>
    </tr>`;
  }

  private resetForm(username: string): TemplateResult {
    return html`<section class="card" aria-label="New password for ${username}">
      <h3>New password for ${username}</h3>
      <form novalidate @submit=${(e: Event) => this.reset(e, username)}>
        ${newPasswordFields('reset')}
        ${outcome(this.resetOutcome)}
        <button type="submit" ?disabled=${this.busy}>Save password</button>
        <button type="button" class="secondary" @click=${() => (this.resetting = null)}>Cancel</button>
      </form>
    </section>`;
  }

  override render(): TemplateResult {
    return html`
      <section class="card">
        <h2>Operators</h2>
        ${this.operators === null ? html`<p class="muted">Loading…</p>` : nothing}
        ${outcome(this.listOutcome)}
        <div class="scroll">
          <table>
            <thead><tr><th>Username</th><th>Role</th><th>State</th><th>Added</th><th>Last sign-in</th><th></th></tr></thead>
            <tbody>${(this.operators ?? []).map((o) => this.row(o))}</tbody>
          </table>
        </div>
      </section>
      ${this.resetting ? this.resetForm(this.resetting) : nothing}
      <section class="card" aria-label="Add an operator">
        <h2>Add an operator</h2>
        <form novalidate @submit=${(e: Event) => this.add(e)}>
          <label for="add-username">Username</label>
          <input id="add-username" name="add-username" autocomplete="off" required maxlength="64"
            pattern="[A-Za-z0-9][A-Za-z0-9._\\-]*" />
          <label for="add-role">Role</label>
          <select id="add-role" name="add-role">
            ${Object.entries(ROLE_LABELS).map(([role, label]) => html`<option value=${role}>${label}</option>`)}
          </select>
          ${newPasswordFields('add')}
          ${outcome(this.addOutcome)}
          <button type="submit" ?disabled=${this.busy}>Add operator</button>
        </form>
      </section>
    `;
  }

  static override styles = [
    sharedStyles,
    tableStyles,
    css`
      .actions { display: flex; gap: 6px; }
      .actions button { min-height: 36px; padding: 6px 10px; }
      form { max-width: 420px; }
      form button { margin-top: 8px; }
    `,
  ];
}
customElements.define('console-operators-page', OperatorsPage);
