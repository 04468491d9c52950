import { LitElement, css, html, type TemplateResult } from 'lit';
import type { ConsoleAlert, ConsoleMe } from '@tusafishe/cloud/console-api';
import { ago } from '../../../src/shared/display-format.js';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { fleetApi } from '../console-api.js';
import { listenLive } from '../live-events.js';

const SEVERITY_CLASS: Record<ConsoleAlert['severity'], string> = { critical: 'bad', warning: 'warn', info: 'idle' };

/** Open alerts (kiosk and cloud rules), most severe first, live; field and admin acknowledge them. */
export class AlertsPage extends LitElement {
  static override properties = {
    me: { attribute: false },
    path: { attribute: false },
    alerts: { state: true },
    showAll: { state: true },
    error: { state: true },
  };
  declare me: ConsoleMe;
  declare path: string[];
  declare alerts: ConsoleAlert[] | null;
  declare showAll: boolean;
  declare error: string;
  #stop: (() => void) | null = null;

  constructor() {
    super();
    this.alerts = null;
    this.showAll = false;
    this.error = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.#stop = listenLive(['alert'], () => void this.load());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stop?.();
  }

  private async load(): Promise<void> {
    try {
      this.alerts = (await fleetApi.alerts(this.showAll ? 'all' : 'open')).alerts;
      this.error = '';
    } catch (error) {
      this.error = (error as Error).message;
    }
  }

  private async acknowledge(alert: ConsoleAlert): Promise<void> {
    try {
      await fleetApi.acknowledge(alert.alert_id);
      await this.load();
    } catch (error) {
      this.error = (error as Error).message;
    }
  }

  private get canAcknowledge(): boolean {
    return this.me.role === 'admin' || this.me.role === 'field';
  }

  private alert(alert: ConsoleAlert): TemplateResult {
    const where = alert.kiosk_id ? html`<a href="#/kiosks/${alert.kiosk_id}">${alert.kiosk_id}</a>` : html`fleet`;
    return html`<li class="card alert" data-alert=${alert.alert_id} data-rule=${alert.rule}>
      <div class="row">
        <span><span class="badge ${SEVERITY_CLASS[alert.severity]}">${alert.severity}</span> ${alert.rule}</span>
        <span class="muted">${where} · ${ago(Date.parse(alert.raised_at))}</span>
      </div>
      <p>${alert.message}</p>
      ${
        alert.cleared_at
          ? html`<p class="muted">Cleared ${ago(Date.parse(alert.cleared_at))}</p>`
          : alert.acknowledged_by
            ? html`<p class="muted">Acknowledged by ${alert.acknowledged_by}</p>`
            : this.canAcknowledge
              ? html`<button @click=${() => this.acknowledge(alert)}>Acknowledge</button>`
              : html``
      }
    </li>`;
  }

  override render(): TemplateResult {
    return html`
      <section class="card">
        <div class="row">
          <h2>Alerts</h2>
          <label class="toggle"
            ><input
              type="checkbox"
              .checked=${this.showAll}
              @change=${(e: Event) => {
                this.showAll = (e.target as HTMLInputElement).checked;
                void this.load();
              }}
            />
            cleared too</label
          >
        </div>
        ${this.error ? html`<p class="error">${this.error}</p>` : ''}
        ${this.alerts === null ? html`<p class="muted">Loading…</p>` : ''}
        ${this.alerts?.length === 0 ? html`<p class="muted" data-testid="no-alerts">No open alerts.</p>` : ''}
      </section>
      <ul>
        ${(this.alerts ?? []).map((alert) => this.alert(alert))}
      </ul>
    `;
  }

  static override styles = [
    sharedStyles,
    css`
      ul { list-style: none; padding: 0; margin: 0; }
      .alert p { margin: 6px 0; }
      .toggle { display: flex; gap: 6px; align-items: center; margin: 0; }
      .toggle input { width: auto; min-height: 0; }
    `,
  ];
}
customElements.define('console-alerts-page', AlertsPage);
