import type { Command } from './command-line.js';
import { dispenserAdd } from './dispensers/dispenser-add.js';
import { dispenserRotateSecret } from './dispensers/dispenser-rotate-secret.js';
import { technicianAdd, technicianPassword, technicianRemove } from './technicians/technician-commands.js';

/**
 * The commands that work on a gateway's own database, as the gateway image's `provision` runs
 * them on the device (`balena ssh <device> gateway`); the cloud's need a checkout. Importing only
 * these keeps the cloud's packages out of the gateway's bundle.
 */
export const ON_GATEWAY_COMMANDS: readonly Command[] = [
  dispenserAdd,
  dispenserRotateSecret,
  technicianAdd,
  technicianPassword,
  technicianRemove,
];
