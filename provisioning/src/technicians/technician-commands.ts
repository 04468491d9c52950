import * as z from 'zod';
import {
  GatewayError,
  createTechnician,
  MIN_PASSWORD_LENGTH,
  removeTechnician,
  setTechnicianPassword,
  Store,
} from '@tusafishe/gateway/provisioning';
import { type CommandIo, defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';
import { promptPassword, readPasswordFromStdin } from './password-input.js';

const DataDirOption = {
  'data-dir': {
    type: 'string',
    value: 'dir',
    env: 'DATA_DIR',
    description: 'gateway data dir (gateway.db)',
    default: './data',
  },
} as const;
const PasswordStdinOption = {
  'password-stdin': {
    type: 'boolean',
    description: 'read the password from the first line of stdin (else: asked on the terminal)',
  },
} as const;
const Username = z.string().trim().min(1).max(64);
const DataDir = z.string().min(1).default('./data');
const PASSWORD_NOTE = `Passwords need at least ${MIN_PASSWORD_LENGTH} characters; never taken from the command line.`;

/** Runs `fn` on the gateway's store and turns the gateway's refusals into "nothing changed". */
async function onGateway(dataDir: string, fn: (store: Store) => void | Promise<void>): Promise<void> {
  const store = Store.open(dataDir);
  try {
    await fn(store);
  } catch (error) {
    if (error instanceof GatewayError)
      throw new ProvisioningError('TECHNICIAN_REFUSED', `${error.message}: nothing changed`);
    throw error;
  } finally {
    store.close();
  }
}

function readPassword(fromStdin: boolean, io: CommandIo): Promise<string> {
  return fromStdin ? readPasswordFromStdin(io) : promptPassword(io);
}

export const technicianAdd = defineCommand({
  name: 'technician add',
  summary:
    "Adds a technician account to a gateway's web UI. The password is read from stdin or asked for, never taken from the command line.",
  positionals: ['username'],
  options: { ...PasswordStdinOption, ...DataDirOption },
  notes: `example: printf '%s\\n' "$PASSWORD" | DATA_DIR=/data npm run provision -- technician add amina --password-stdin\n${PASSWORD_NOTE}`,
  schema: z.object({ username: Username, 'password-stdin': z.boolean().default(false), 'data-dir': DataDir }),
  async run(input, io) {
    const password = await readPassword(input['password-stdin'], io);
    await onGateway(input['data-dir'], (store) => createTechnician(store.db, input.username, password).then(() => {}));
    io.out(`Technician ${input.username} can now sign in to the gateway UI (data dir ${input['data-dir']}).\n`);
  },
});

export const technicianPassword = defineCommand({
  name: 'technician password',
  summary:
    'Gives a technician a new password, unlocks the account and signs out every browser it was signed in on. The password is read from stdin or asked for.',
  positionals: ['username'],
  options: { ...PasswordStdinOption, ...DataDirOption },
  notes: `example: printf '%s\\n' "$NEW_PASSWORD" | DATA_DIR=/data npm run provision -- technician password amina --password-stdin\n${PASSWORD_NOTE}`,
  schema: z.object({ username: Username, 'password-stdin': z.boolean().default(false), 'data-dir': DataDir }),
  async run(input, io) {
    const password = await readPassword(input['password-stdin'], io);
    await onGateway(input['data-dir'], (store) => setTechnicianPassword(store.db, input.username, password));
    io.out(`Technician ${input.username} has a new password; the old one and every open session no longer work.\n`);
  },
});

export const technicianRemove = defineCommand({
  name: 'technician remove',
  summary: "Removes a technician account and signs it out; the gateway's audit log keeps what it did.",
  positionals: ['username'],
  options: DataDirOption,
  notes:
    'example: DATA_DIR=/data npm run provision -- technician remove amina\nIf the account came from the TECHNICIAN_USERNAME device variable, change or remove that variable first: the gateway creates that account again when it starts.',
  schema: z.object({ username: Username, 'data-dir': DataDir }),
  async run(input, io) {
    await onGateway(input['data-dir'], (store) => removeTechnician(store.db, input.username));
    io.out(`Technician ${input.username} is removed and signed out (data dir ${input['data-dir']}).\n`);
  },
});
