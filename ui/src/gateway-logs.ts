import { LitElement, css, html, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { LogEntryView, LogsAnswer } from '@tusafishe/gateway/api';
import { api, ApiError } from './api-client.js';
import { zonedDateTime } from './shared/display-format.js';
import { sharedStyles } from './shared/shared-styles.js';

type Level = LogEntryView['level'];

const LEVELS: readonly { level: Level; label: string }[] = [
  { level: 'info', label: 'All' },
  { level: 'warn', label: 'Warnings' },
  { level: 'error', label: 'Errors' },
];
const BADGE: Record<Level, string> = { info: 'idle', warn: 'warn', error: 'bad', fatal: 'bad' };
const REFRESH_MS = 10_000;

/** `#/logs`: the gateway's recent log entries (redacted by the gateway), newest first. */
export class GatewayLogs extends LitElement {
  static override properties = {
    answer: { state: true },
    level: { state: true },
    module: { state: true },
    error: { state: true },
  };
  declare answer: LogsAnswer | null;
  declare level: Level;
  declare module: string | null;
  declare error: string | null;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.answer = null;
    this.level = 'warn';
    this.module = null;
    this.error = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.timer = setInterval(() => void this.load(), REFRESH_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  private async load(): Promise<void> {
    try {
      this.answer = await api.logs(this.level, this.module);
      this.error = null;
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The gateway did not answer';
    }
  }

  private filter(level: Level, module: string | null): void {
    this.level = level;
    this.module = module;
    void this.load();
  }

  private entry(entry: LogEntryView, timezone: string): TemplateResult {
    const details = describeFields(entry.fields);
    return html`<li data-testid="log-entry" data-level=${entry.level}>
      <div class="head">
        <span class="badge ${BADGE[entry.level]}">${entry.level}</span>
        <span class="module">${entry.module}</span>
        <time>${zonedDateTime(entry.time, timezone)}</time>
      </div>
      <div class="msg">${entry.msg}</div>
      ${details ? html`<div class="fields">${details}</div>` : ''}
    </li>`;
  }

  override render(): TemplateResult {
    const modules = this.answer?.modules ?? [];
    return html`
      <h2>Gateway log</h2>
      <section class="card filters">
        <div>
          <label for="log-level">Level (and above)</label>
          <select id="log-level" @change=${(e: Event) => this.filter((e.target as HTMLSelectElement).value as Level, this.module)}>
            ${LEVELS.map(({ level, label }) => html`<option value=${level} ?selected=${level === this.level}>${label}</option>`)}
          </select>
        </div>
        <div>
          <label for="log-module">Module</label>
          <select id="log-module" @change=${(e: Event) => this.filter(this.level, (e.target as HTMLSelectElement).value || null)}>
            <option value="" ?selected=${this.module === null}>All modules</option>
            ${modules.map((module) => html`<option value=${module} ?selected=${module === this.module}>${module}</option>`)}
          </select>
        </div>
        <button class="secondary" @click=${() => this.load()}>Refresh</button>
      </section>
      ${this.error ? html`<p role="alert" class="error">${this.error}</p>` : ''}
      <section class="card">
        ${
          this.answer === null
            ? html`<p class="muted">Loading…</p>`
            : this.answer.entries.length === 0
              ? html`<p class="muted">Nothing logged at this level yet.</p>`
              : html`<ul>
                ${repeat(
                  this.answer.entries,
                  // Keyed by arrival, so a refresh only adds the new rows (a technician's text selection survives).
                  (entry) => entry.seq,
                  (entry) => this.entry(entry, this.answer!.timezone),
                )}
              </ul>`
        }
        ${
          this.answer
            ? html`<p class="muted">Newest first; times in ${this.answer.timezone}. The gateway keeps its last ${this.answer.capacity.toLocaleString('en')} entries.</p>`
            : ''
        }
      </section>
    `;
  }

  static override styles = [
    sharedStyles,
    css`
      .filters { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 10px; align-items: end; }
      .filters label { margin-top: 0; }
      .filters button { grid-column: 1 / -1; }
      ul { list-style: none; margin: 0; padding: 0; }
      li { padding: 8px 0; border-bottom: 1px solid #edf1f4; }
      .head { display: flex; align-items: center; gap: 8px; }
      .module { font-weight: 600; color: #34444f; }
      time { margin-left: auto; color: #5d6f7c; font-variant-numeric: tabular-nums; font-size: 0.85rem; }
      .msg { margin-top: 4px; }
      .fields { margin-top: 2px; color: #5d6f7c; font-size: 0.8rem; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
      @media (min-width: 900px) {
        .filters { grid-template-columns: 1fr 1fr auto; }
        .filters button { grid-column: auto; }
      }
    `,
  ];
}

/** `key=value` pairs on one line; an error shows its message, not its stack. */
function describeFields(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(
      ([key, value]) =>
        `${key}=${key === 'err' && isError(value) ? value.message : typeof value === 'string' ? value : JSON.stringify(value)}`,
    )
    .join(' ');
}

function isError(value: unknown): value is { message: string } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

customElements.define('gateway-logs', GatewayLogs);
