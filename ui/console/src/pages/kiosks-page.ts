import { definePlaceholderPage } from '../section-placeholder.js';

definePlaceholderPage(
  'console-kiosks-page',
  'Kiosks',
  'Every kiosk: last contact, online or offline, dispensers, tank, water quality, alerts; firmware rollouts.',
);
