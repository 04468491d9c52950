import type { Command, CommandIo } from './command-line.js';
import { customersImportAppwrite } from './customers/import-appwrite.js';
import { dispenserAdd } from './dispensers/dispenser-add.js';
import { dispenserRotateSecret } from './dispensers/dispenser-rotate-secret.js';
import { firmwareKeygen, firmwareSign } from './firmware/firmware-commands.js';
import { kioskCertificate } from './kiosks/kiosk-certificate.js';
import { kioskCreate } from './kiosks/kiosk-create.js';
import { kioskRotateSecret } from './kiosks/kiosk-rotate-secret.js';
import { paymentsReconcile } from './payments/payments-reconcile.js';
import { ProvisioningError, exitCodeOf } from './provisioning-error.js';
import { technicianAdd, technicianPassword, technicianRemove } from './technicians/technician-commands.js';
import { operatorAdd, operatorDisable, operatorList } from './operators/operator-commands.js';

const COMMANDS: readonly Command[] = [
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

function overview(): string {
  const lines = COMMANDS.map(
    (command) => `  ${command.name.padEnd(28)} ${command.summary.split('. ')[0]!.replace(/\.$/, '')}`,
  );
  return `usage: npm run provision -- <command> [arguments] [--help]\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs the command `argv` names; resolves to the process exit code. */
export async function runProvisioning(argv: readonly string[], io: CommandIo): Promise<number> {
  const command = COMMANDS.find((candidate) => {
    const words = candidate.name.split(' ');
    return words.every((word, index) => argv[index] === word);
  });
  if (!command) {
    const asked = argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help';
    (asked ? io.out : io.err)(asked ? overview() : `unknown command "${argv.slice(0, 2).join(' ')}"\n\n${overview()}`);
    return asked ? 0 : 2;
  }
  try {
    await command.execute(argv.slice(command.name.split(' ').length), io);
    return 0;
  } catch (error) {
    if (!(error instanceof ProvisioningError)) throw error;
    io.err(`${command.name}: ${error.message}\n`);
    return exitCodeOf(error);
  }
}
