import * as z from 'zod';
import { GatewayError, createTechnician, MIN_PASSWORD_LENGTH, Store } from '@tusafishe/gateway/provisioning';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';
import { promptPassword, readPasswordFromStdin } from './password-input.js';

export const technicianAdd = defineCommand({
  name: 'technician add',
  summary:
    "Adds a technician account to a gateway's web UI. The password is read from stdin or asked for, never taken from the command line.",
  positionals: ['username'],
  options: {
    'password-stdin': {
      type: 'boolean',
      description: 'read the password from the first line of stdin (else: asked on the terminal)',
    },
    'data-dir': {
      type: 'string',
      value: 'dir',
      env: 'DATA_DIR',
      description: 'gateway data dir (gateway.db)',
      default: './data',
    },
  },
  notes: `example: printf '%s\\n' "$PASSWORD" | DATA_DIR=/data npm run provision -- technician add amina --password-stdin\nPasswords need at least ${MIN_PASSWORD_LENGTH} characters.`,
  schema: z.object({
    username: z.string().trim().min(1).max(64),
    'password-stdin': z.boolean().default(false),
    'data-dir': z.string().min(1).default('./data'),
  }),
  async run(input, io) {
    const password = input['password-stdin'] ? await readPasswordFromStdin(io) : await promptPassword(io);
    const store = Store.open(input['data-dir']);
    try {
      await createTechnician(store.db, input.username, password);
    } catch (error) {
      if (error instanceof GatewayError)
        throw new ProvisioningError('TECHNICIAN_REFUSED', `${error.message}: nothing changed`);
      throw error;
    } finally {
      store.close();
    }
    io.out(`Technician ${input.username} can now sign in to the gateway UI (data dir ${input['data-dir']}).\n`);
  },
});
