import { definePlaceholderPage } from '../section-placeholder.js';

definePlaceholderPage('console-alerts-page', 'Alerts', 'Kiosk and fleet alerts by severity; acknowledge.');
