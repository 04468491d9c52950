import { LitElement, css, html, type TemplateResult } from 'lit';
import type { CalibrationResult, RecentDispense } from '@tusafishe/gateway/api';
import { api, ApiError } from './api-client.js';
import { litres, timeOfDay } from './shared/display-format.js';
import { sharedStyles } from './shared/shared-styles.js';

/** Pulses of a reference dispense: reported by the dispenser, or recovered from its mL and the factor in force. */
function pulsesOf(dispense: RecentDispense, pulsesPerLitre: number): number {
  return dispense.pulses ?? Math.round((dispense.delivered_ml * pulsesPerLitre) / 1000);
}

/**
 * Guided flow-meter calibration: dispense into a measuring jug, pick that dispense, type what
 * the jug shows, save. The gateway computes the factor again and republishes the config.
 */
export class FlowCalibration extends LitElement {
  static override properties = {
    dispenserId: { type: String },
    pulsesPerLitre: { type: Number },
    dispenses: { attribute: false },
    reference: { state: true },
    measuredMl: { state: true },
    result: { state: true },
    error: { state: true },
    busy: { state: true },
  };
  declare dispenserId: string;
  declare pulsesPerLitre: number;
  declare dispenses: RecentDispense[];
  declare reference: RecentDispense | null;
  declare measuredMl: number | null;
  declare result: CalibrationResult | null;
  declare error: string | null;
  declare busy: boolean;

  constructor() {
    super();
    this.dispenserId = '';
    this.pulsesPerLitre = 0;
    this.dispenses = [];
    this.reference = null;
    this.measuredMl = null;
    this.result = null;
    this.error = null;
    this.busy = false;
  }

  private preview(): number | null {
    if (!this.reference || !this.measuredMl || this.measuredMl < 50) return null;
    return Math.round((pulsesOf(this.reference, this.pulsesPerLitre) * 1000) / this.measuredMl);
  }

  private async save(): Promise<void> {
    if (!this.reference || !this.measuredMl) return;
    this.busy = true;
    this.error = null;
    try {
      this.result = await api.calibrate(this.dispenserId, this.reference.session_id, this.measuredMl);
      this.dispatchEvent(new CustomEvent('calibrated', { detail: this.result, bubbles: true, composed: true }));
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : 'The gateway did not answer';
    } finally {
      this.busy = false;
    }
  }

  private restart(): void {
    this.reference = null;
    this.measuredMl = null;
    this.result = null;
    this.error = null;
  }

  override render(): TemplateResult {
    if (this.result) {
      return html`<div class="card" data-testid="calibration-result">
        <h3>Flow meter calibrated</h3>
        <p class="success">${this.result.dispenser_id} now counts <strong>${this.result.new_pulses_per_litre}</strong> pulses per litre (was ${this.result.old_pulses_per_litre}).
          The dispenser has received its new settings.</p>
        <button class="secondary" @click=${this.restart}>Calibrate again</button>
      </div>`;
    }
    if (!this.reference) {
      return html`<div class="card">
        <h3>Calibrate flow meter</h3>
        <ol class="muted"><li>Put a measuring jug under the outlet.</li><li>Dispense about 1 L on the keypad (any account).</li><li>Pick that dispense below.</li></ol>
        ${
          this.dispenses.length
            ? html`<ul>${this.dispenses.map(
                (
                  d,
                ) => html`<li><span>${timeOfDay(d.occurred_at)} · ${litres(d.delivered_ml)}${d.pulses === null ? '' : ` · ${d.pulses} pulses`}</span>
                <button class="secondary" data-testid="use-dispense" @click=${() => (this.reference = d)}>Use this</button></li>`,
              )}</ul>`
            : html`<p class="muted">No dispenses on this dispenser yet; they appear here as soon as one finishes.</p>`
        }
      </div>`;
    }
    const preview = this.preview();
    return html`<div class="card">
      <h3>Calibrate flow meter</h3>
      <p>The dispenser measured <strong>${litres(this.reference.delivered_ml)}</strong> (${pulsesOf(this.reference, this.pulsesPerLitre)} pulses).</p>
      <label for="measured">What does the jug show? (mL)</label>
      <input id="measured" type="number" inputmode="numeric" min="50" max="100000" step="1"
        @input=${(e: InputEvent) => (this.measuredMl = Number((e.target as HTMLInputElement).value) || null)} />
      <p class="muted" data-testid="calibration-preview">${preview === null ? 'Enter the jug reading.' : `New factor: ${preview} pulses per litre (now ${this.pulsesPerLitre}).`}</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
      <div class="actions">
        <button class="secondary" @click=${this.restart}>Back</button>
        <button ?disabled=${preview === null || this.busy} @click=${this.save}>Save calibration</button>
      </div>
    </div>`;
  }

  static override styles = [
    sharedStyles,
    css`
      ul { list-style: none; padding: 0; margin: 0; }
      li { display: flex; justify-content: space-between; align-items: center; gap: 8px; padding: 6px 0; border-bottom: 1px solid #edf1f4; }
      ol { padding-left: 20px; }
      .actions { display: flex; gap: 8px; justify-content: flex-end; }
    `,
  ];
}
customElements.define('flow-calibration', FlowCalibration);
