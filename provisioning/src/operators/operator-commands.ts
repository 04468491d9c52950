import * as z from 'zod';
import {
  CloudError,
  createOperator,
  listOperators,
  MIN_OPERATOR_PASSWORD_LENGTH,
  OPERATOR_ROLES,
  setOperatorDisabled,
} from '@tusafishe/cloud/provisioning';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';
import {
  CLOUD_TARGET_ENV,
  CloudTargetInput,
  CloudTargetOptions,
  describeCloudTarget,
  openCloudTarget,
} from '../stores/cloud-database.js';
import { promptPassword, readPasswordFromStdin } from '../technicians/password-input.js';

const Username = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, 'letters, digits, ".", "_" or "-", at most 64');

/** Runs `fn` on the cloud database and turns the cloud's refusals into "nothing changed". */
async function onCloud<T>(
  input: z.infer<z.ZodObject<typeof CloudTargetInput>>,
  fn: (db: Awaited<ReturnType<typeof openCloudTarget>>) => Promise<T>,
): Promise<T> {
  const db = await openCloudTarget(input);
  try {
    return await fn(db);
  } catch (error) {
    if (error instanceof CloudError)
      throw new ProvisioningError('OPERATOR_REFUSED', `${error.message}: nothing changed`);
    throw error;
  } finally {
    await db.close();
  }
}

export const operatorAdd = defineCommand({
  name: 'operator add',
  summary:
    'Adds an operations-console account with a role. The password is read from stdin (or asked for on a terminal), never from the command line.',
  positionals: [],
  options: {
    username: { type: 'string', value: 'name', description: 'sign-in name' },
    role: { type: 'string', value: 'role', description: OPERATOR_ROLES.join(' | ') },
    ...CloudTargetOptions,
  },
  secretEnv: CLOUD_TARGET_ENV,
  notes: `example: printf '%s\\n' "$PASSWORD" | DATABASE_URL=postgres://… npm run provision -- operator add --username amina --role admin\nPasswords need at least ${MIN_OPERATOR_PASSWORD_LENGTH} characters.`,
  schema: z.object({ username: Username, role: z.enum(OPERATOR_ROLES), ...CloudTargetInput }),
  async run(input, io) {
    const password = io.stdin.isTTY ? await promptPassword(io) : await readPasswordFromStdin(io);
    if (password.length < MIN_OPERATOR_PASSWORD_LENGTH)
      throw new ProvisioningError('USAGE', `the password needs at least ${MIN_OPERATOR_PASSWORD_LENGTH} characters`);
    await onCloud(input, (db) => createOperator(db, { username: input.username, role: input.role, password }));
    io.out(
      `Operator ${input.username} (${input.role}) can now sign in to the console (${describeCloudTarget(input)}).\n`,
    );
  },
});

export const operatorList = defineCommand({
  name: 'operator list',
  summary:
    'Lists the operations-console accounts: name, role, state (active, disabled, locked), last sign-in, wrong passwords since, locked until (times in UTC).',
  positionals: [],
  options: { ...CloudTargetOptions },
  secretEnv: CLOUD_TARGET_ENV,
  schema: z.object({ ...CloudTargetInput }),
  async run(input, io) {
    const operators = await onCloud(input, listOperators);
    const now = Date.now();
    io.out(operatorRow(['USERNAME', 'ROLE', 'STATE', 'LAST SIGN-IN', 'FAILED', 'LOCKED UNTIL']));
    for (const operator of operators) {
      const locked = operator.lockedUntil !== null && operator.lockedUntil > now;
      const state = operator.disabled ? 'disabled' : locked ? 'locked' : 'active';
      io.out(
        operatorRow([
          operator.username,
          operator.role,
          state,
          operator.lastSignInAt === null ? 'never' : utc(operator.lastSignInAt),
          String(operator.failedAttempts),
          locked && operator.lockedUntil !== null ? utc(operator.lockedUntil) : '-',
        ]),
      );
    }
  },
});

const OPERATOR_COLUMNS = [24, 17, 9, 20, 7];

function operatorRow(cells: string[]): string {
  return `${cells.map((cell, i) => cell.padEnd(OPERATOR_COLUMNS[i] ?? 0)).join(' ')}\n`;
}

/** `2026-11-30T20:41:07Z`: to the second, in UTC, whatever the machine's zone. */
function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export const operatorDisable = defineCommand({
  name: 'operator disable',
  summary: 'Disables an operations-console account and ends its sessions at once.',
  positionals: [],
  options: { username: { type: 'string', value: 'name', description: 'sign-in name' }, ...CloudTargetOptions },
  secretEnv: CLOUD_TARGET_ENV,
  schema: z.object({ username: Username, ...CloudTargetInput }),
  async run(input, io) {
    await onCloud(input, (db) => setOperatorDisabled(db, input.username, true));
    io.out(`Operator ${input.username} is disabled and signed out.\n`);
  },
});
