import * as z from 'zod';
import { DispenserId } from '@tusafishe/protocol';
import { resolveSettings, defaultDispenserConfig, Store } from '@tusafishe/gateway/provisioning';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';
import { newDispenserSecret, printDispenserFlashing } from './dispenser-credentials.js';
import { GatewayTargetInput, GatewayTargetOptions } from './gateway-target.js';

export const dispenserAdd = defineCommand({
  name: 'dispenser add',
  summary:
    'Adds a dispenser to a gateway with a new random broker password (stored hashed) and prints what to flash into it. Safe while the gateway runs: the broker accepts the dispenser at once.',
  positionals: ['dispenser-id'],
  options: {
    'kiosk-id': { type: 'string', value: 'id', env: 'KIOSK_ID', description: "the gateway's kiosk id", default: 'K1' },
    'pulses-per-litre': {
      type: 'string',
      value: 'n',
      env: 'DEFAULT_PULSES_PER_LITRE',
      description: 'flow-meter calibration until a technician calibrates it',
      default: String(resolveSettings().defaultPulsesPerLitre),
    },
    ...GatewayTargetOptions,
  },
  notes: 'example: DATA_DIR=/data npm run provision -- dispenser add D7 --kiosk-id KIOSK-042 --broker-host 10.42.0.1',
  schema: z.object({
    'dispenser-id': DispenserId,
    'kiosk-id': z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ or -, at most 32')
      .default('K1'),
    'pulses-per-litre': z.coerce.number().int().min(1).max(100_000).optional(),
    ...GatewayTargetInput,
  }),
  async run(input, io) {
    const dispenserId = input['dispenser-id'];
    const pulsesPerLitre = input['pulses-per-litre'] ?? resolveSettings().defaultPulsesPerLitre;
    const { secret, hash } = await newDispenserSecret();
    const store = Store.open(input['data-dir']);
    try {
      store.transaction(() => {
        if (store.dispensers.get(dispenserId)) {
          throw new ProvisioningError(
            'DISPENSER_EXISTS',
            `dispenser ${dispenserId} already exists: nothing changed (use "dispenser rotate-secret" for a new password)`,
          );
        }
        store.dispensers.add(dispenserId, hash, defaultDispenserConfig(input['kiosk-id'], pulsesPerLitre));
      });
    } finally {
      store.close();
    }
    io.out(`Dispenser ${dispenserId} added to kiosk ${input['kiosk-id']} (gateway data dir ${input['data-dir']}).\n\n`);
    printDispenserFlashing(io, { dispenserId, secret, brokerHost: input['broker-host'], mqttPort: input['mqtt-port'] });
  },
});
