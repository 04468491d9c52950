import { LitElement, css, html, type TemplateResult } from 'lit';
import type {
  ConsoleFleetFirmware,
  ConsoleKiosk,
  ConsoleKioskDetail,
  ConsoleMe,
  ConsoleRollout,
} from '@tusafishe/cloud/console-api';
import { ago, litres, timeOfDay } from '../../../src/shared/display-format.js';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import { tableStyles } from '../table-styles.js';
import { fleetApi } from '../console-api.js';
import { listenLive, type LiveKind } from '../live-events.js';

interface LiveDispense {
  event_id: string;
  kiosk_id: string | null;
  dispenser_id: string | null;
  account_id: string | null;
  volume_ml: number;
  occurred_at: string;
}

const QUALITY_CLASS = { ok: 'ok', unsafe: 'bad', unknown: 'idle' } as const;
const SEVERITY_CLASS = { critical: 'bad', warning: 'warn', info: 'idle' } as const;
/** A burst of live events reloads the page's figures once. */
const RELOAD_AFTER_MS = 300;

/**
 * The fleet: every kiosk with its contact, status and open alerts, and a live dispense feed;
 * `#/kiosks/<id>` one kiosk with its dispensers and today's figures; for field and admin the
 * fleet firmware rollouts (upload a signed image, choose kiosks, start, follow, stop).
 */
export class KiosksPage extends LitElement {
  static override properties = {
    me: { attribute: false },
    path: { attribute: false },
    kiosks: { state: true },
    offlineAfterS: { state: true },
    detail: { state: true },
    firmware: { state: true },
    dispenses: { state: true },
    error: { state: true },
    notice: { state: true },
  };
  declare me: ConsoleMe;
  declare path: string[];
  declare kiosks: ConsoleKiosk[] | null;
  declare offlineAfterS: number;
  declare detail: ConsoleKioskDetail | null;
  declare firmware: ConsoleFleetFirmware | null;
  declare dispenses: LiveDispense[];
  declare error: string;
  declare notice: string;
  #stop: (() => void) | null = null;
  #reload: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    super();
    this.path = [];
    this.kiosks = null;
    this.offlineAfterS = 0;
    this.detail = null;
    this.firmware = null;
    this.dispenses = [];
    this.error = '';
    this.notice = '';
  }

  private get field(): boolean {
    return this.me.role === 'admin' || this.me.role === 'field';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#stop = listenLive(['kiosk', 'alert', 'rollout', 'dispense'], (kind, data) => this.onLive(kind, data));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stop?.();
    if (this.#reload) clearTimeout(this.#reload);
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('path')) void this.load();
  }

  private onLive(kind: LiveKind, data: unknown): void {
    if (kind === 'dispense') {
      this.dispenses = [data as LiveDispense, ...this.dispenses].slice(0, 20);
      return;
    }
    if (this.#reload) return;
    this.#reload = setTimeout(() => {
      this.#reload = null;
      void this.load();
    }, RELOAD_AFTER_MS);
  }

  private async load(): Promise<void> {
    try {
      const id = this.path[0];
      if (id) this.detail = await fleetApi.kiosk(id);
      else {
        const list = await fleetApi.kiosks();
        this.kiosks = list.kiosks;
        this.offlineAfterS = list.offline_after_s;
        if (this.field) this.firmware = await fleetApi.firmware();
      }
      this.error = '';
    } catch (error) {
      this.error = (error as Error).message;
    }
  }

  private async act(what: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await what();
      this.notice = done;
      this.error = '';
      await this.load();
    } catch (error) {
      this.notice = '';
      this.error = (error as Error).message;
    }
  }

  private status(kiosk: ConsoleKiosk): TemplateResult {
    return html`<span class="badge ${kiosk.online ? 'ok' : 'bad'}" data-testid="online">${kiosk.online ? 'online' : 'offline'}</span>`;
  }

  private row(kiosk: ConsoleKiosk): TemplateResult {
    return html`<tr data-kiosk=${kiosk.kiosk_id}>
      <td><a href="#/kiosks/${kiosk.kiosk_id}">${kiosk.kiosk_id}</a></td>
      <td>${this.status(kiosk)}</td>
      <td>${ago(kiosk.last_contact_at ? Date.parse(kiosk.last_contact_at) : null)}</td>
      <td>${kiosk.gateway_version ?? '–'}</td>
      <td>${kiosk.events_waiting ?? '–'}</td>
      <td>${kiosk.dispensers_total === null ? '–' : `${kiosk.dispensers_online}/${kiosk.dispensers_total}`}</td>
      <td>${kiosk.tank_level_pct === null ? '–' : `${Math.round(kiosk.tank_level_pct)} %`}</td>
      <td>${kiosk.water_quality ? html`<span class="badge ${QUALITY_CLASS[kiosk.water_quality]}">${kiosk.water_quality}</span>` : '–'}</td>
      <td>
        ${
          kiosk.active_alerts > 0 && kiosk.worst_severity
            ? html`<a href="#/alerts" class="badge ${SEVERITY_CLASS[kiosk.worst_severity]}">${kiosk.active_alerts}</a>`
            : '0'
        }
      </td>
    </tr>`;
  }

  private list(): TemplateResult {
    return html`
      <section class="card">
        <h2>Kiosks</h2>
        <p class="muted">Offline: no contact for ${Math.round(this.offlineAfterS / 60)} min or more.</p>
        ${this.kiosks === null ? html`<p class="muted">Loading…</p>` : ''}
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Kiosk</th><th>State</th><th>Last contact</th><th>Gateway</th><th>Events waiting</th>
                <th>Dispensers</th><th>Tank</th><th>Water</th><th>Alerts</th>
              </tr>
            </thead>
            <tbody>
              ${(this.kiosks ?? []).map((kiosk) => this.row(kiosk))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="card">
        <h2>Live dispenses</h2>
        ${this.dispenses.length === 0 ? html`<p class="muted">Dispenses across the fleet appear here as they are recorded.</p>` : ''}
        <ul class="feed" data-testid="dispense-feed">
          ${this.dispenses.map(
            (d) =>
              html`<li>${timeOfDay(Date.parse(d.occurred_at))} · ${d.kiosk_id}/${d.dispenser_id} · ${litres(d.volume_ml)} · ${d.account_id}</li>`,
          )}
        </ul>
      </section>
      ${this.field ? this.firmwareSection() : ''}
    `;
  }

  private rollout(rollout: ConsoleRollout): TemplateResult {
    return html`<div class="rollout" data-rollout=${rollout.rollout_id}>
      <div class="row">
        <strong>${rollout.version} → ${rollout.kiosk_ids ? rollout.kiosk_ids.join(', ') : 'all kiosks'}</strong>
        <span class="badge ${rollout.state === 'active' ? 'ok' : 'idle'}">${rollout.state}</span>
      </div>
      <p class="muted">Started by ${rollout.started_by} ${ago(Date.parse(rollout.started_at))}${rollout.stopped_by ? `, stopped by ${rollout.stopped_by}` : ''}</p>
      <ul class="progress">
        ${rollout.kiosks.map(
          (k) => html`<li data-kiosk=${k.kiosk_id}>
            <strong>${k.kiosk_id}</strong> <span class="badge state">${k.state}</span> ${k.message ? html`<span class="muted">${k.message}</span>` : ''}
            <span class="dispensers">${k.dispensers.map((d) => html`<span class="badge idle" title=${d.message ?? ''}>${d.dispenser_id} ${d.state}</span> `)}</span>
          </li>`,
        )}
      </ul>
      ${
        rollout.state === 'active'
          ? html`<button class="secondary" @click=${() => this.act(() => fleetApi.stopRollout(rollout.rollout_id), 'Rollout stopped.')}>Stop</button>`
          : ''
      }
    </div>`;
  }

  private firmwareSection(): TemplateResult {
    const images = this.firmware?.images ?? [];
    const start = (event: Event): void => {
      event.preventDefault();
      const form = new FormData(event.target as HTMLFormElement);
      const list = String(form.get('kiosks') ?? '').trim();
      const kiosks = list === '' ? 'all' : list.split(/[\s,]+/).filter(Boolean);
      void this.act(() => fleetApi.startRollout(String(form.get('version')), kiosks), 'Rollout started.');
    };
    const upload = (event: Event): void => {
      const file = (event.target as HTMLInputElement).files?.[0];
      if (file) void this.act(() => fleetApi.upload(file), `Uploaded ${file.name}.`);
    };
    return html`<section class="card" data-testid="firmware">
      <h2>Dispenser firmware</h2>
      <label>Upload a signed image (.tsfw)<input type="file" accept=".tsfw,application/octet-stream" @change=${upload} /></label>
      <form @submit=${start}>
        <label>Version<select name="version" required>${images.map((i) => html`<option>${i.version}</option>`)}</select></label>
        <label>Kiosks (empty: all; or ids separated by commas)<input name="kiosks" placeholder="all kiosks" /></label>
        <p><button type="submit" ?disabled=${images.length === 0}>Start rollout</button></p>
      </form>
      ${(this.firmware?.rollouts ?? []).map((r) => this.rollout(r))}
    </section>`;
  }

  private detailView(kiosk: ConsoleKioskDetail): TemplateResult {
    const denials = Object.entries(kiosk.today.denials).sort((a, b) => b[1] - a[1]);
    return html`
      <p><a href="#/kiosks">← All kiosks</a></p>
      <section class="card" data-kiosk=${kiosk.kiosk_id}>
        <div class="row"><h2>${kiosk.name}</h2>${this.status(kiosk)}</div>
        <div class="grid">
          <div><div class="muted">Last contact</div>${ago(kiosk.last_contact_at ? Date.parse(kiosk.last_contact_at) : null)}</div>
          <div><div class="muted">Gateway</div>${kiosk.gateway_version ?? '–'}</div>
          <div><div class="muted">Events waiting</div>${kiosk.events_waiting ?? '–'}</div>
          <div><div class="muted">Tank</div>${kiosk.tank_level_pct === null ? '–' : `${Math.round(kiosk.tank_level_pct)} %`}</div>
          <div><div class="muted">Water</div>${kiosk.water_quality ?? '–'}</div>
          <div><div class="muted">Today (${kiosk.today.day})</div><span data-testid="litres-today">${litres(kiosk.today.litres_ml)}</span> in ${kiosk.today.dispenses} dispenses</div>
          <div><div class="muted">Approvals today</div>${kiosk.today.approvals}</div>
        </div>
      </section>
      <section class="card">
        <h3>Denials today</h3>
        ${denials.length === 0 ? html`<p class="muted">None.</p>` : ''}
        ${denials.map(([reason, count]) => html`<div class="row"><span>${reason}</span><span>${count}</span></div>`)}
      </section>
      <section class="card">
        <h3>Dispensers</h3>
        ${kiosk.dispensers.map(
          (d) => html`<div class="row">
            <span>${d.dispenser_id} <span class="badge ${d.online ? 'ok' : 'bad'}">${d.online ? 'online' : 'offline'}</span></span>
            <span class="muted">${d.firmware ?? ''} · ${ago(d.last_seen_at)}</span>
          </div>`,
        )}
      </section>
      <section class="card">
        <h3>Open alerts</h3>
        ${kiosk.alerts.length === 0 ? html`<p class="muted">None.</p>` : ''}
        ${kiosk.alerts.map(
          (a) =>
            html`<div class="row"><span><span class="badge ${SEVERITY_CLASS[a.severity]}">${a.severity}</span> ${a.message}</span><span class="muted">${ago(Date.parse(a.raised_at))}</span></div>`,
        )}
      </section>
    `;
  }

  override render(): TemplateResult {
    const messages = html`${this.error ? html`<p class="error card">${this.error}</p>` : ''}${this.notice ? html`<p class="success">${this.notice}</p>` : ''}`;
    if (this.path[0])
      return html`${messages}${this.detail ? this.detailView(this.detail) : html`<p class="muted">Loading…</p>`}`;
    return html`${messages}${this.list()}`;
  }

  static override styles = [
    sharedStyles,
    tableStyles,
    css`
      .feed, .progress { list-style: none; padding: 0; margin: 0; }
      .feed li, .progress li { padding: 6px 0; border-bottom: 1px solid #eef2f5; }
      .rollout { border-top: 1px solid #e6ebef; padding-top: 10px; margin-top: 10px; }
    `,
  ];
}
customElements.define('console-kiosks-page', KiosksPage);
