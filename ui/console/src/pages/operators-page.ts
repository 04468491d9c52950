import { definePlaceholderPage } from '../section-placeholder.js';

definePlaceholderPage(
  'console-operators-page',
  'Operators',
  'Console accounts and their roles: add, disable, reset a password.',
);
