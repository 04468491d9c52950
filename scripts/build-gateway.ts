/** `npx tsx scripts/build-gateway.ts`: writes gateway/dist/main.js, what the balena image runs. */
import { buildGateway } from './gateway-bundle.js';

console.log(`gateway bundle: ${await buildGateway()}`);
