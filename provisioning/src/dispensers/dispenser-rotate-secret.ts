import * as z from 'zod';
import { DispenserId } from '@tusafishe/protocol';
import { Store } from '@tusafishe/gateway/provisioning';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';
import { newDispenserSecret, printDispenserFlashing } from './dispenser-credentials.js';
import { GatewayTargetInput, GatewayTargetOptions } from './gateway-target.js';

export const dispenserRotateSecret = defineCommand({
  name: 'dispenser rotate-secret',
  summary:
    'Gives a dispenser a new broker password. New logins need it at once; a session already connected lasts until it reconnects.',
  positionals: ['dispenser-id'],
  options: GatewayTargetOptions,
  notes: 'example: DATA_DIR=/data npm run provision -- dispenser rotate-secret D7 --broker-host 10.42.0.1',
  schema: z.object({ 'dispenser-id': DispenserId, ...GatewayTargetInput }),
  async run(input, io) {
    const dispenserId = input['dispenser-id'];
    const { secret, hash } = await newDispenserSecret();
    const store = Store.open(input['data-dir']);
    try {
      const changed = store.db
        .prepare('UPDATE dispensers SET secret_hash = ? WHERE dispenser_id = ?')
        .run(hash, dispenserId).changes;
      if (changed === 0)
        throw new ProvisioningError(
          'UNKNOWN_DISPENSER',
          `no dispenser ${dispenserId} in ${input['data-dir']}: nothing changed`,
        );
    } finally {
      store.close();
    }
    io.out(`Dispenser ${dispenserId} has a new password; the old one no longer logs in.\n\n`);
    printDispenserFlashing(io, { dispenserId, secret, brokerHost: input['broker-host'], mqttPort: input['mqtt-port'] });
  },
});
