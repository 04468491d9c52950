import { LitElement, html, type TemplateResult } from 'lit';
import { sharedStyles } from '../../src/shared/shared-styles.js';

/** Defines `tag` as a page that says what the section will hold, until its real page replaces it. */
export function definePlaceholderPage(tag: string, title: string, purpose: string): void {
  customElements.define(
    tag,
    class extends LitElement {
      override render(): TemplateResult {
        return html`<section class="card"><h2>${title}</h2><p class="muted">${purpose}</p></section>`;
      }
      static override styles = sharedStyles;
    },
  );
}
