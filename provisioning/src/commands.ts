import type { Command, CommandIo } from './command-line.js';
import { runCommand } from './run-command.js';
import { customersImportAppwrite } from './customers/import-appwrite.js';
import { dispenserAdd } from './dispensers/dispenser-add.js';
import { dispenserRotateSecret } from './dispensers/dispenser-rotate-secret.js';
import { firmwareKeygen, firmwareSign } from './firmware/firmware-commands.js';
import { kioskCertificate } from './kiosks/kiosk-certificate.js';
import { kioskCreate } from './kiosks/kiosk-create.js';
import { kioskRotateSecret } from './kiosks/kiosk-rotate-secret.js';
import { paymentsReconcile } from './payments/payments-reconcile.js';
import { technicianAdd, technicianPassword, technicianRemove } from './technicians/technician-commands.js';
import { operatorAdd, operatorDisable, operatorList } from './operators/operator-commands.js';

/** Every command, as `npm run provision --` runs them from a checkout. */
export const COMMANDS: readonly Command[] = [
  kioskCreate,
  kioskRotateSecret,
  kioskCertificate,
  dispenserAdd,
  dispenserRotateSecret,
  technicianAdd,
  technicianPassword,
  technicianRemove,
  operatorAdd,
  operatorList,
  operatorDisable,
  customersImportAppwrite,
  firmwareKeygen,
  firmwareSign,
  paymentsReconcile,
];

/** Runs the command `argv` names, as `npm run provision --` does; resolves to the process exit code. */
export function runProvisioning(argv: readonly string[], io: CommandIo): Promise<number> {
  return runCommand(argv, io, COMMANDS, 'npm run provision --');
}
