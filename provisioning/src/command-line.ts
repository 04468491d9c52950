import { parseArgs } from 'node:util';
import * as z from 'zod';
import { ProvisioningError } from './provisioning-error.js';

/** What a command may touch of its process; tests pass their own. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

interface OptionSpec {
  type: 'string' | 'boolean';
  /** `<value>` placeholder in the help. */
  value?: string;
  description: string;
  /** Environment variable used when the option is not given. */
  env?: string;
  /** Shown in the help; the schema applies it. */
  default?: string;
}

export interface CommandSpec<S extends z.ZodType> {
  /** Words that select the command, e.g. `kiosk create`. */
  name: string;
  summary: string;
  positionals: readonly string[];
  options: Readonly<Record<string, OptionSpec>>;
  /** Environment variables (secrets) the command reads that are never options. */
  secretEnv?: readonly string[];
  /** Lines after the option list: examples, where secrets go. */
  notes?: string;
  /** Validates `{ <positional>: string, <option>: value, <SECRET_ENV>: string }`. */
  schema: S;
  run(input: z.output<S>, io: CommandIo): Promise<void>;
}

export interface Command {
  name: string;
  summary: string;
  help(): string;
  execute(argv: readonly string[], io: CommandIo): Promise<void>;
}

export function defineCommand<S extends z.ZodType>(spec: CommandSpec<S>): Command {
  const help = (): string => helpText(spec);
  return {
    name: spec.name,
    summary: spec.summary,
    help,
    async execute(argv, io) {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(help());
        return;
      }
      const parsed = spec.schema.safeParse(collectInput(spec, argv, io.env));
      if (!parsed.success) throw new ProvisioningError('USAGE', `${z.prettifyError(parsed.error)}\n\n${help()}`);
      await spec.run(parsed.data, io);
    },
  };
}

function collectInput(
  spec: CommandSpec<z.ZodType>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = Object.fromEntries(
      Object.entries(spec.options).map(([name, option]) => [name, { type: option.type }]),
    );
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ProvisioningError('USAGE', `${(error as Error).message}\n\n${helpText(spec)}`);
  }
  if (parsed.positionals.length > spec.positionals.length) {
    throw new ProvisioningError(
      'USAGE',
      `unexpected argument "${parsed.positionals[spec.positionals.length]}"\n\n${helpText(spec)}`,
    );
  }
  const input: Record<string, unknown> = {};
  for (const [index, name] of spec.positionals.entries()) input[name] = parsed.positionals[index];
  for (const [name, option] of Object.entries(spec.options)) {
    input[name] = parsed.values[name] ?? (option.env ? env[option.env] : undefined);
  }
  for (const name of spec.secretEnv ?? []) input[name] = env[name];
  return input;
}

function helpText(spec: CommandSpec<z.ZodType>): string {
  const positionals = spec.positionals.map((name) => ` <${name}>`).join('');
  const lines = [`usage: npm run provision -- ${spec.name}${positionals} [options]`, '', spec.summary, '', 'options:'];
  for (const [name, option] of Object.entries(spec.options)) {
    const flag = option.type === 'string' ? `--${name} <${option.value ?? 'value'}>` : `--${name}`;
    const fallbacks = [option.env && `$${option.env}`, option.default].filter(Boolean).join(', else ');
    const fallback = fallbacks ? ` (default: ${fallbacks})` : '';
    lines.push(`  ${flag.padEnd(32)} ${option.description}${fallback}`);
  }
  lines.push(`  ${'--help'.padEnd(32)} this help`);
  if (spec.notes) lines.push('', spec.notes.trim());
  return `${lines.join('\n')}\n`;
}
