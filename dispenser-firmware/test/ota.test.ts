import { otaScenarios } from './ota-scenarios.js';

otaScenarios('node');
