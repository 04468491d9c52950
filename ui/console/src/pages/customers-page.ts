import { LitElement, html, nothing, type TemplateResult } from 'lit';
import type { ConsoleMe } from '@tusafishe/cloud/console-api';
import { sharedStyles } from '../../../src/shared/shared-styles.js';
import './customer-detail.js';
import './customer-import.js';
import './customer-search.js';

/**
 * Customers (`#/customers`, `#/customers/<id>`): the search stays in the page while a customer is
 * open, so going back shows the same results. Customer service and admin act and import; finance reads.
 */
export class CustomersPage extends LitElement {
  static override properties = { me: { attribute: false }, path: { attribute: false } };
  declare me: ConsoleMe;
  declare path: string[];

  constructor() {
    super();
    this.path = [];
  }

  override render(): TemplateResult {
    const accountId = this.path[0];
    const canAct = this.me.role === 'admin' || this.me.role === 'customer_service';
    return html`
      <console-customer-search ?hidden=${Boolean(accountId)}></console-customer-search>
      ${canAct ? html`<console-customer-import ?hidden=${Boolean(accountId)}></console-customer-import>` : nothing}
      ${accountId ? html`<console-customer-detail .accountId=${accountId} .canAct=${canAct}></console-customer-detail>` : nothing}
    `;
  }

  static override styles = sharedStyles;
}
customElements.define('console-customers-page', CustomersPage);
