import { LitElement, html, type TemplateResult } from 'lit';
import { unsafeStatic, html as staticHtml } from 'lit/static-html.js';
import type { ConsoleMe } from '@tusafishe/cloud/console-api';
import { sessionApi, SIGNED_OUT_EVENT } from './console-api.js';
import { ROLE_LABELS } from './role-labels.js';
import { sectionsFor, type Section } from './sections.js';
import { appShellStyles } from '../../src/shared/app-shell-styles.js';
import { sharedStyles } from '../../src/shared/shared-styles.js';
import '../../src/shared/sign-in-form.js';

/** `#/customers/TS123` → section `customers`, path `['TS123']` (hash routes: one index.html). */
function parseHash(hash: string): { id: string; path: string[] } {
  const [id = '', ...path] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { id, path };
}

/** The console's shell: sign-in gate, the navigation the role may use, and the routed section page. */
export class ConsoleApp extends LitElement {
  static override properties = { me: { state: true }, checked: { state: true }, hash: { state: true } };
  declare me: ConsoleMe | null;
  declare checked: boolean;
  declare hash: string;

  private readonly onHash = (): void => {
    this.hash = location.hash;
  };
  private readonly onSignedOut = (): void => {
    this.me = null;
  };

  constructor() {
    super();
    this.me = null;
    this.checked = false;
    this.hash = location.hash;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    window.addEventListener(SIGNED_OUT_EVENT, this.onSignedOut);
    sessionApi
      .me()
      .then((me) => (this.me = me))
      .catch(() => undefined)
      .finally(() => (this.checked = true));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.onHash);
    window.removeEventListener(SIGNED_OUT_EVENT, this.onSignedOut);
  }

  private async signOut(): Promise<void> {
    await sessionApi.signOut().catch(() => undefined);
    this.me = null;
  }

  private page(me: ConsoleMe, section: Section | undefined, path: string[]): TemplateResult {
    if (!section) return html`<p class="card">This section is not available for your role.</p>`;
    const tag = unsafeStatic(section.tag);
    return staticHtml`<${tag} .me=${me} .path=${path}></${tag}>`;
  }

  override render(): TemplateResult {
    if (!this.checked) return html``;
    const me = this.me;
    if (!me) {
      return html`<sign-in-form
        heading="Operations console"
        subtitle="Tusafishe water kiosks"
        .signIn=${sessionApi.signIn}
        @signed-in=${(e: CustomEvent<ConsoleMe>) => (this.me = e.detail)}
      ></sign-in-form>`;
    }
    const sections = sectionsFor(me.role);
    const route = parseHash(this.hash);
    const section = route.id === '' ? sections[0] : sections.find((s) => s.id === route.id);
    const navigation = sections.filter((s) => !s.fromHeader);
    return html`
      <header>
        <strong>Tusafishe console</strong>
        <a class="user" href="#/password" title="Change my password" data-testid="operator">${me.username} · ${ROLE_LABELS[me.role]}</a>
        <button class="signout" @click=${() => this.signOut()}>Sign out</button>
      </header>
      <nav aria-label="Sections">
        ${navigation.map(
          (s) =>
            html`<a href="#/${s.id}" class=${s === section ? 'current' : ''} aria-current=${s === section ? 'page' : 'false'}>${s.label}</a>`,
        )}
      </nav>
      <main>${this.page(me, section, route.path)}</main>
    `;
  }

  /** `sharedStyles` for the `.card` a refused section shows in; the shell's own rules come after. */
  static override styles = [sharedStyles, appShellStyles];
}
customElements.define('console-app', ConsoleApp);
