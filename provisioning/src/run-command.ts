import type { Command, CommandIo } from './command-line.js';
import { ProvisioningError, exitCodeOf } from './provisioning-error.js';

function overview(commands: readonly Command[], usage: string): string {
  const lines = commands.map(
    (command) => `  ${command.name.padEnd(28)} ${command.summary.split('. ')[0]!.replace(/\.$/, '')}`,
  );
  return `usage: ${usage} <command> [arguments] [--help]\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs the command `argv` names among `commands`; resolves to the process exit code. */
export async function runCommand(
  argv: readonly string[],
  io: CommandIo,
  commands: readonly Command[],
  usage: string,
): Promise<number> {
  const command = commands.find((candidate) => {
    const words = candidate.name.split(' ');
    return words.every((word, index) => argv[index] === word);
  });
  if (!command) {
    const asked = argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help';
    const help = overview(commands, usage);
    (asked ? io.out : io.err)(asked ? help : `unknown command "${argv.slice(0, 2).join(' ')}"\n\n${help}`);
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
