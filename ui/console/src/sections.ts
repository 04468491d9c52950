import type { OperatorRole } from '@tusafishe/cloud/console-api';
import './pages/kiosks-page.js';
import './pages/alerts-page.js';
import './pages/customers-page.js';
import './pages/analytics-page.js';
import './pages/reports-page.js';
import './pages/operators-page.js';
import './pages/password-page.js';

/**
 * The console's sections: hash route `#/<id>[/…]`, navigation label, the roles besides `admin`
 * that see it, and the page element (in `pages/`) that renders it. The cloud enforces each
 * route's roles itself; this only decides what the navigation offers.
 */
export interface Section {
  id: string;
  label: string;
  roles: readonly OperatorRole[];
  /** Custom element name; it receives `.me` (who is signed in) and `.path` (the route after `#/<id>/`). */
  tag: string;
  /** Reached from the header (the operator's name), not offered in the navigation. */
  fromHeader?: true;
}

const SECTIONS: readonly Section[] = [
  { id: 'kiosks', label: 'Kiosks', roles: ['field', 'finance', 'customer_service'], tag: 'console-kiosks-page' },
  { id: 'alerts', label: 'Alerts', roles: ['field', 'finance', 'customer_service'], tag: 'console-alerts-page' },
  { id: 'customers', label: 'Customers', roles: ['customer_service', 'finance'], tag: 'console-customers-page' },
  { id: 'analytics', label: 'Analytics', roles: ['finance', 'field'], tag: 'console-analytics-page' },
  { id: 'reports', label: 'Reports', roles: ['finance', 'field'], tag: 'console-reports-page' },
  { id: 'operators', label: 'Operators', roles: [], tag: 'console-operators-page' },
  {
    id: 'password',
    label: 'My password',
    roles: ['field', 'finance', 'customer_service'],
    tag: 'console-password-page',
    fromHeader: true,
  },
];

export function sectionsFor(role: OperatorRole): Section[] {
  return SECTIONS.filter((section) => role === 'admin' || section.roles.includes(role));
}
