import { purchaseScenarios } from './purchase-scenarios.js';

purchaseScenarios('node');
