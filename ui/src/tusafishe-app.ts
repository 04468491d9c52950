import { LitElement, css, html, type TemplateResult } from 'lit';
import { api, SIGNED_OUT_EVENT } from './api-client.js';
import { liveFeed, type LiveState } from './live-feed-client.js';
import { appShellStyles } from './shared/app-shell-styles.js';
import './shared/sign-in-form.js';
import './kiosk-overview.js';
import './dispense-feed.js';
import './dispenser-detail.js';
import './customer-search.js';
import './usage-charts.js';
import './firmware-images.js';
import './gateway-logs.js';

type Route =
  | { page: 'overview' | 'feed' | 'customers' | 'charts' | 'firmware' | 'logs' }
  | { page: 'dispenser'; id: string };

/** Hash routes, so the gateway serves one static index.html for every page. */
function parseRoute(hash: string): Route {
  const [, page, id] = hash.replace(/^#/, '').split('/');
  if (page === 'dispensers' && id) return { page: 'dispenser', id: decodeURIComponent(id) };
  if (page === 'feed' || page === 'customers' || page === 'charts' || page === 'firmware' || page === 'logs')
    return { page };
  return { page: 'overview' };
}

const NAV = [
  { page: 'overview', href: '#/overview', label: 'Kiosk' },
  { page: 'feed', href: '#/feed', label: 'Live' },
  { page: 'customers', href: '#/customers', label: 'Customers' },
  { page: 'charts', href: '#/charts', label: 'Usage' },
  { page: 'firmware', href: '#/firmware', label: 'Firmware' },
  { page: 'logs', href: '#/logs', label: 'Logs' },
] as const;

/** The app shell: sign-in gate, navigation, live connection and the routed page. */
export class TusafisheApp extends LitElement {
  static override properties = {
    username: { state: true },
    checked: { state: true },
    route: { state: true },
    liveState: { state: true },
  };
  declare username: string | null;
  declare checked: boolean;
  declare route: Route;
  declare liveState: LiveState;

  private readonly onHash = (): void => {
    this.route = parseRoute(location.hash);
  };
  private readonly onSignedOut = (): void => this.signedOut();
  private readonly onLiveState = (event: Event): void => {
    this.liveState = (event as CustomEvent<LiveState>).detail;
  };

  constructor() {
    super();
    this.username = null;
    this.checked = false;
    this.route = parseRoute(location.hash);
    this.liveState = 'offline';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    window.addEventListener(SIGNED_OUT_EVENT, this.onSignedOut);
    liveFeed.addEventListener('state', this.onLiveState);
    api
      .me()
      .then((me) => this.signedIn(me.username))
      .catch(() => undefined)
      .finally(() => (this.checked = true));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.onHash);
    window.removeEventListener(SIGNED_OUT_EVENT, this.onSignedOut);
    liveFeed.removeEventListener('state', this.onLiveState);
    liveFeed.stop();
  }

  private signedIn(username: string): void {
    this.username = username;
    liveFeed.start();
  }

  private signedOut(): void {
    this.username = null;
    liveFeed.stop();
  }

  private async signOut(): Promise<void> {
    await api.signOut().catch(() => undefined);
    this.signedOut();
  }

  private page(): TemplateResult {
    switch (this.route.page) {
      case 'feed':
        return html`<dispense-feed></dispense-feed>`;
      case 'customers':
        return html`<customer-search></customer-search>`;
      case 'charts':
        return html`<usage-charts></usage-charts>`;
      case 'firmware':
        return html`<firmware-images></firmware-images>`;
      case 'logs':
        return html`<gateway-logs></gateway-logs>`;
      case 'dispenser':
        return html`<dispenser-detail .dispenserId=${this.route.id}></dispenser-detail>`;
      default:
        return html`<kiosk-overview></kiosk-overview>`;
    }
  }

  override render(): TemplateResult {
    if (!this.checked) return html``;
    if (!this.username) {
      return html`<sign-in-form
        heading="Technician sign-in"
        subtitle="Tusafishe kiosk gateway"
        .signIn=${async (username: string, password: string) => (await api.signIn(username, password)).username}
        @signed-in=${(e: CustomEvent<string>) => this.signedIn(e.detail)}
      ></sign-in-form>`;
    }
    const current = this.route.page === 'dispenser' ? 'overview' : this.route.page;
    return html`
      <header>
        <strong>Tusafishe kiosk</strong>
        <span class="live ${this.liveState}" data-testid="live-state">${this.liveState === 'live' ? '● live' : this.liveState === 'connecting' ? '○ connecting' : '○ offline'}</span>
        <span class="user">${this.username}</span>
        <button class="signout" @click=${() => this.signOut()}>Sign out</button>
      </header>
      <nav>
        ${NAV.map((item) => html`<a href=${item.href} class=${item.page === current ? 'current' : ''}>${item.label}</a>`)}
      </nav>
      <main>${this.page()}</main>
    `;
  }

  static override styles = [
    appShellStyles,
    css`
      .live { font-size: 0.8rem; }
      .live.live { color: #9ef0c0; }
      .live.offline, .live.connecting { color: #ffd27a; }
    `,
  ];
}
customElements.define('tusafishe-app', TusafisheApp);
