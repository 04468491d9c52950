import { definePlaceholderPage } from '../section-placeholder.js';

definePlaceholderPage('console-reports-page', 'Reports', 'Monthly PDF reports per kiosk and for the fleet.');
