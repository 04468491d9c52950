import { definePlaceholderPage } from '../section-placeholder.js';

definePlaceholderPage(
  'console-analytics-page',
  'Analytics',
  'Litres, revenue, customers and authorisations per kiosk and for the fleet.',
);
