/**
 * `provision <command> …` inside the gateway image (`balena ssh <device> gateway`): dispensers'
 * and technicians' accounts on the kiosk's own database (DATA_DIR=/data), while the gateway runs.
 * Bundled beside the gateway (`scripts/gateway-bundle.ts`), so it needs only the gateway's packages.
 */
import { ON_GATEWAY_COMMANDS } from './on-gateway-commands.js';
import { runCli } from './run-cli.js';

runCli(ON_GATEWAY_COMMANDS, 'provision');
