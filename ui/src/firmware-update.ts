import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { FirmwareImageView, RolloutView } from '@tusafishe/gateway/api';
import { api, ApiError } from './api-client.js';
import { ago } from './shared/display-format.js';
import { onLiveMessage } from './live-feed-client.js';
import { sharedStyles } from './shared/shared-styles.js';

const STATE_TEXT: Record<RolloutView['state'], { text: string; badge: string }> = {
  pending: { text: 'sent, waiting for the dispenser', badge: 'idle' },
  downloading: { text: 'downloading', badge: 'warn' },
  installed: { text: 'installed, restarting', badge: 'warn' },
  confirmed: { text: 'confirmed', badge: 'ok' },
  failed: { text: 'failed', badge: 'bad' },
};

/** A dispenser's firmware update: pick an uploaded version, send it, follow it live to "confirmed". */
export class FirmwareUpdate extends LitElement {
  static override properties = {
    dispenserId: { type: String },
    running: { type: String },
    images: { state: true },
    rollout: { state: true },
    error: { state: true },
    busy: { state: true },
  };
  declare dispenserId: string;
  /** The version the dispenser reports now. */
  declare running: string | null;
  declare images: FirmwareImageView[];
  declare rollout: RolloutView | null;
  declare error: string | null;
  declare busy: boolean;
  private unsubscribe: (() => void) | undefined;

  constructor() {
    super();
    this.dispenserId = '';
    this.running = null;
    this.images = [];
    this.rollout = null;
    this.error = null;
    this.busy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // The dispenser's command result and its status after the reboot move the rollout on.
    this.unsubscribe = onLiveMessage((message) => {
      if (
        (message.type === 'command-result' || message.type === 'dispenser-status') &&
        message.dispenser_id === this.dispenserId
      )
        void this.loadRollout();
    });
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private async load(): Promise<void> {
    try {
      this.images = (await api.firmwareImages()).images;
      await this.loadRollout();
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The gateway did not answer';
    }
  }

  private async loadRollout(): Promise<void> {
    this.rollout = (await api.firmwareRollout(this.dispenserId)).rollout;
  }

  private async sendUpdate(): Promise<void> {
    const version = (this.renderRoot.querySelector('#fw-choice') as HTMLSelectElement | null)?.value;
    if (!version) return;
    this.busy = true;
    try {
      this.rollout = (await api.updateFirmware(this.dispenserId, version)).rollout;
      this.error = null;
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The gateway did not answer';
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    const choices = this.images.filter((image) => image.version !== this.running);
    const r = this.rollout;
    return html`
      <section class="card">
        <h3>Firmware update</h3>
        ${
          choices.length === 0
            ? html`<p class="muted">No other version uploaded. <a href="#/firmware">Upload one</a>.</p>`
            : html`<div class="actions">
              <select id="fw-choice" aria-label="Firmware version">${choices.map((image) => html`<option value=${image.version}>${image.version}</option>`)}</select>
              <button ?disabled=${this.busy} @click=${this.sendUpdate}>Update</button>
            </div>`
        }
        <p class="muted">Only while no customer is using the dispenser; the valve stays closed until it restarts.</p>
        ${
          r
            ? html`<p data-testid="rollout">
              ${r.version}: <span class="badge ${STATE_TEXT[r.state].badge}" data-testid="rollout-state">${STATE_TEXT[r.state].text}</span>
              <span class="muted">${r.message ?? ''} · ${ago(r.updated_at)}</span>
            </p>`
            : nothing
        }
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      </section>
    `;
  }

  static override styles = [
    sharedStyles,
    css`
      .actions { display: flex; gap: 8px; }
      .actions select { flex: 1; }
    `,
  ];
}
customElements.define('firmware-update', FirmwareUpdate);
