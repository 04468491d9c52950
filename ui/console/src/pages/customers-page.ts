import { definePlaceholderPage } from '../section-placeholder.js';

definePlaceholderPage(
  'console-customers-page',
  'Customers',
  'Search customers by phone, account id or name; their balance, limits and history; PIN resets, unlocks, corrections.',
);
