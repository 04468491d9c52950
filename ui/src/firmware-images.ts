import { LitElement, css, html, type TemplateResult } from 'lit';
import type { FirmwareImageView } from '@tusafishe/gateway/api';
import { api, ApiError } from './api-client.js';
import { dateTime } from './shared/display-format.js';
import { sharedStyles } from './shared/shared-styles.js';

/** `#/firmware`: upload a dispenser firmware image and list the stored ones. */
export class FirmwareImages extends LitElement {
  static override properties = {
    images: { state: true },
    message: { state: true },
    busy: { state: true },
  };
  declare images: FirmwareImageView[] | null;
  declare message: { ok: boolean; text: string } | null;
  declare busy: boolean;

  constructor() {
    super();
    this.images = null;
    this.message = null;
    this.busy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.images = (await api.firmwareImages()).images;
    } catch (error) {
      this.message = { ok: false, text: error instanceof ApiError ? error.message : 'The gateway did not answer' };
    }
  }

  private async upload(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const file = (form.elements.namedItem('image') as HTMLInputElement).files?.[0];
    if (!file) return void (this.message = { ok: false, text: 'Choose the signed firmware file' });
    this.busy = true;
    try {
      const image = await api.uploadFirmware(file);
      this.message = {
        ok: true,
        text: `Stored ${image.version} (${kib(image.size)}), signed release ${image.counter}`,
      };
      form.reset();
      await this.load();
    } catch (error) {
      this.message = { ok: false, text: error instanceof ApiError ? error.message : 'The upload failed' };
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    return html`
      <h2>Dispenser firmware</h2>
      <form class="card" @submit=${this.upload}>
        <h3>Upload a signed release</h3>
        <p class="muted">Only files signed with the fleet's release key are accepted (the dispensers check the signature too);
          the version is the one that was signed.</p>
        <label for="fw-image">Signed firmware file (.tsfw, up to 4 MB)</label>
        <input id="fw-image" name="image" type="file" accept=".tsfw,.bin,application/octet-stream" required />
        <p><button type="submit" ?disabled=${this.busy}>${this.busy ? 'Uploading…' : 'Upload'}</button></p>
        ${this.message ? html`<p role="status" class=${this.message.ok ? 'success' : 'error'}>${this.message.text}</p>` : ''}
      </form>
      <section class="card">
        <h3>Stored images</h3>
        ${
          this.images === null
            ? html`<p class="muted">Loading…</p>`
            : this.images.length === 0
              ? html`<p class="muted">No images yet.</p>`
              : this.images.map(
                  (image) => html`<div class="row" data-testid="firmware-image">
                  <span><strong>${image.version}</strong><br /><span class="muted">${image.sha256.slice(0, 12)}… · ${kib(image.size)} · release ${image.counter}</span></span>
                  <span class="muted">${dateTime(image.uploaded_at)}</span>
                </div>`,
                )
        }
        <p class="muted">Update a dispenser from its page (Kiosk → dispenser).</p>
      </section>
    `;
  }

  static override styles = [sharedStyles, css`input[type='file'] { padding: 8px; }`];
}

function kib(bytes: number): string {
  return `${Math.ceil(bytes / 1024).toLocaleString('en')} KiB`;
}

customElements.define('firmware-images', FirmwareImages);
