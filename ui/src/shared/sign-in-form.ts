import { LitElement, css, html, type TemplateResult } from 'lit';
import { ApiError } from './api-request.js';
import { sharedStyles } from './shared-styles.js';

/**
 * The sign-in card both apps use: `.signIn(username, password)` calls the app's API and
 * resolves to whatever the app needs (fired as `signed-in`'s detail).
 */
export class SignInForm extends LitElement {
  static override properties = {
    heading: {},
    subtitle: {},
    error: { state: true },
    busy: { state: true },
  };
  declare heading: string;
  declare subtitle: string;
  declare signIn: (username: string, password: string) => Promise<unknown>;
  declare error: string | null;
  declare busy: boolean;

  constructor() {
    super();
    this.heading = 'Sign in';
    this.subtitle = '';
    this.signIn = async () => undefined;
    this.error = null;
    this.busy = false;
  }

  private async submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    this.busy = true;
    this.error = null;
    try {
      const me = await this.signIn(String(form.get('username') ?? ''), String(form.get('password') ?? ''));
      this.dispatchEvent(new CustomEvent('signed-in', { detail: me, bubbles: true, composed: true }));
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The server did not answer';
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    return html`
      <form class="card" @submit=${this.submit}>
        <h2>${this.heading}</h2>
        <p class="muted">${this.subtitle}</p>
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
        <button type="submit" ?disabled=${this.busy}>Sign in</button>
      </form>
    `;
  }

  static override styles = [
    sharedStyles,
    css`
      :host { display: flex; justify-content: center; padding: 48px 16px; }
      form { width: 100%; max-width: 360px; }
      button { width: 100%; margin-top: 16px; }
    `,
  ];
}
customElements.define('sign-in-form', SignInForm);
