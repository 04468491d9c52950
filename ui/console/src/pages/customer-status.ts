import { html, type TemplateResult } from 'lit';
import type { CustomerDetailAnswer } from '@tusafishe/cloud/console-api';

const STATUS: Record<CustomerDetailAnswer['status'], { label: string; tone: string }> = {
  active: { label: 'active', tone: 'ok' },
  inactive: { label: 'no PIN yet', tone: 'idle' },
  suspended: { label: 'deactivated', tone: 'bad' },
};

/** A customer's status as a badge: `inactive` is an account still waiting for its first PIN. */
export function statusBadge(status: CustomerDetailAnswer['status']): TemplateResult {
  const { label, tone } = STATUS[status];
  return html`<span class="badge ${tone}" data-status=${status}>${label}</span>`;
}
