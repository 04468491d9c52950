import { otaScenarios } from './ota-scenarios.js';

// Over-the-air updates with the firmware bundle on Moddable's XS engine: the same outcomes as on Node.
otaScenarios('xs');
