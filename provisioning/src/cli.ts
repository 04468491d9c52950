/** `npm run provision -- <command> …`: brings kiosks, dispensers, technicians and the old customer base into the system. */
import { COMMANDS } from './commands.js';
import { runCli } from './run-cli.js';

runCli(COMMANDS, 'npm run provision --');
