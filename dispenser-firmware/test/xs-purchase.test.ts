import { purchaseScenarios } from './purchase-scenarios.js';

// The device's firmware bundle on Moddable's XS engine (an xsnap worker) with the host's
// simulated hardware: the same scenarios and outcomes as with the firmware on Node.
purchaseScenarios('xs');
