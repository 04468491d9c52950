import { LitElement, css, html, type TemplateResult } from 'lit';
import type { LiveMessage } from '@tusafishe/gateway/api';
import { litres, timeOfDay } from './shared/display-format.js';
import { liveFeed, onLiveMessage } from './live-feed-client.js';
import { sharedStyles } from './shared/shared-styles.js';

const KEEP = 100;

type FeedEntry = Exclude<LiveMessage, { type: 'progress' }>;

/** Dispenses, refusals and dispenser status as they happen, newest first; water flowing now on top. */
export class DispenseFeed extends LitElement {
  static override properties = { entries: { state: true }, flowing: { state: true } };
  declare entries: FeedEntry[];
  declare flowing: Map<string, number>;
  private unsubscribe: (() => void) | undefined;

  constructor() {
    super();
    this.entries = [];
    this.flowing = new Map();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.entries = [];
    for (const message of liveFeed.recent) this.receive(message);
    this.unsubscribe = onLiveMessage((message) => this.receive(message));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private receive(message: LiveMessage): void {
    if (message.type === 'progress') {
      this.flowing = new Map(this.flowing).set(message.dispenser_id, message.delivered_ml);
      return;
    }
    if (message.type === 'authorisation' && message.approved) return; // the dispense itself follows
    if (message.type === 'dispense' && message.dispenser_id) {
      const flowing = new Map(this.flowing);
      flowing.delete(message.dispenser_id);
      this.flowing = flowing;
    }
    this.entries = [message, ...this.entries].slice(0, KEEP);
  }

  private entry(entry: FeedEntry): TemplateResult {
    switch (entry.type) {
      case 'dispense':
        return html`<li data-testid="feed-dispense"><span class="badge ${entry.excess_ml ? 'bad' : 'ok'}">${litres(entry.delivered_ml)}</span>
          <span>${entry.dispenser_id ?? '?'} · ${entry.account_id ?? 'unknown'}${entry.excess_ml ? html` · <strong>reported ${litres(entry.excess_ml)} more than approved (not charged)</strong>` : ''}</span><time>${timeOfDay(entry.occurred_at)}</time></li>`;
      case 'token-redemption':
        return html`<li data-testid="feed-token"><span class="badge ok">+${litres(entry.credit_ml)}</span><span>${entry.dispenser_id ?? '?'} · ${entry.account_id ?? 'unknown'} · keypad token (offline top-up)</span><time>${timeOfDay(entry.occurred_at)}</time></li>`;
      case 'completion-refused':
        return html`<li><span class="badge bad">unmatched</span><span>${entry.dispenser_id} · ${litres(entry.delivered_ml)} with no session (${entry.reason}): see the dispenser</span><time>${timeOfDay(entry.at)}</time></li>`;
      case 'authorisation':
        return html`<li><span class="badge warn">refused</span><span>${entry.dispenser_id ?? '?'} · ${entry.reason ?? ''}</span><time>${timeOfDay(entry.at)}</time></li>`;
      case 'dispenser-status':
        return html`<li><span class="badge ${entry.online ? 'ok' : 'bad'}">${entry.online ? 'online' : 'offline'}</span><span>${entry.dispenser_id}</span><time>${timeOfDay(entry.at)}</time></li>`;
      case 'command-result':
        return html`<li><span class="badge ${entry.ok ? 'ok' : 'bad'}">command</span><span>${entry.dispenser_id} · ${entry.message ?? (entry.ok ? 'done' : 'failed')}</span><time>${timeOfDay(entry.at)}</time></li>`;
    }
  }

  override render(): TemplateResult {
    return html`
      <h2>Live dispenses</h2>
      ${
        this.flowing.size
          ? html`<section class="card flowing">${[...this.flowing].map(([id, ml]) => html`<div class="row"><span>💧 ${id} pouring</span><strong>${litres(ml)}</strong></div>`)}</section>`
          : ''
      }
      <section class="card">
        ${
          this.entries.length
            ? html`<ul>${this.entries.map((entry) => this.entry(entry))}</ul>`
            : html`<p class="muted">Waiting for dispenses… they appear here as they happen.</p>`
        }
      </section>
    `;
  }

  static override styles = [
    sharedStyles,
    css`
      ul { list-style: none; margin: 0; padding: 0; }
      li { display: grid; grid-template-columns: 88px 1fr auto; gap: 8px; align-items: center; padding: 8px 0; border-bottom: 1px solid #edf1f4; }
      li:last-child { border-bottom: 0; }
      time { color: #5d6f7c; font-variant-numeric: tabular-nums; font-size: 0.9rem; }
      .badge { text-align: center; }
      .flowing { border-left: 4px solid #1d8fc7; }
    `,
  ];
}
customElements.define('dispense-feed', DispenseFeed);
