import { html, nothing, type TemplateResult } from 'lit';
import { MIN_PASSWORD_LENGTH } from '@tusafishe/cloud/console-api';

/**
 * The operators' forms (the Operators page, My password). A new password typed twice (adding an operator, an admin's reset, one's own change): the
 * fields, and the check the form runs before sending — the cloud's own minimum length (the forms
 * are `novalidate`, so this check's words are what the operator reads).
 */
export function newPasswordFields(prefix: string): TemplateResult {
  return html`
    <label for="${prefix}-password">New password</label>
    <input id="${prefix}-password" name="${prefix}-password" type="password" autocomplete="new-password"
      minlength=${MIN_PASSWORD_LENGTH} maxlength="200" required />
    <label for="${prefix}-repeat">New password again</label>
    <input id="${prefix}-repeat" name="${prefix}-repeat" type="password" autocomplete="new-password" required />
    <p class="muted">At least ${MIN_PASSWORD_LENGTH} characters.</p>
  `;
}

/** Why the pair cannot be sent, or null when it can. */
export function newPasswordProblem(password: string, repeat: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (password !== repeat) return 'The two passwords differ.';
  return null;
}

/** What the operator API's refusals mean to the operator reading them. */
export const OPERATOR_ERRORS: Record<string, string> = {
  WRONG_PASSWORD: 'The current password is wrong.',
  OPERATOR_LOCKED: 'Too many wrong passwords: the account is locked for a while.',
  USERNAME_TAKEN: 'That username is taken.',
  OWN_ACCOUNT: 'You cannot disable your own account.',
  WEAK_PASSWORD: 'The password is too short.',
  FST_ERR_VALIDATION: 'Check the form.',
};

/** A form's answer: a refusal or what was done. */
export type Outcome = { ok: boolean; text: string } | null;

export function outcome(result: Outcome): TemplateResult | typeof nothing {
  if (!result) return nothing;
  return result.ok
    ? html`<p class="success" role="status">${result.text}</p>`
    : html`<p class="error" role="alert">${result.text}</p>`;
}
