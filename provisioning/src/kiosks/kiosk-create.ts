import * as z from 'zod';
import { KioskId } from '@tusafishe/protocol';
import { CloudError, createKiosk, type Tariff } from '@tusafishe/cloud/provisioning';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';
import {
  CLOUD_TARGET_ENV,
  CloudTargetInput,
  CloudTargetOptions,
  describeCloudTarget,
  openCloudTarget,
} from '../stores/cloud-database.js';
import { CloudUrlInput, CloudUrlOption, printKioskVariables } from './kiosk-variables.js';

/** `UGX:50:20000`: 50 minor units of UGX buy 20,000 mL. */
const TariffInput = z
  .string()
  .regex(/^[A-Z]{3}:[1-9][0-9]{0,8}:[1-9][0-9]{0,8}$/, 'write CURRENCY:PRICE_MINOR:VOLUME_ML, e.g. UGX:50:20000')
  .transform((text): Tariff => {
    const [currency, price, volume] = text.split(':') as [string, string, string];
    return { currency, priceMinor: Number(price), volumeMl: Number(volume) };
  });

export const kioskCreate = defineCommand({
  name: 'kiosk create',
  summary: "Registers a kiosk with the cloud and prints its gateway's credential once, as balena device variables.",
  positionals: ['kiosk-id'],
  options: {
    name: { type: 'string', value: 'text', description: 'display name (default: the kiosk id)' },
    tariff: {
      type: 'string',
      value: 'CUR:PRICE:ML',
      description: "the kiosk's own water price, e.g. UGX:50:20000 (default: the cloud's)",
    },
    ...CloudUrlOption,
    ...CloudTargetOptions,
  },
  secretEnv: CLOUD_TARGET_ENV,
  notes: `example: DATABASE_URL=postgres://… npm run provision -- kiosk create KIOSK-042 --tariff UGX:50:20000 --cloud-url https://cloud.example`,
  schema: z.object({
    'kiosk-id': KioskId,
    name: z.string().trim().min(1).max(80).optional(),
    tariff: TariffInput.optional(),
    ...CloudUrlInput,
    ...CloudTargetInput,
  }),
  async run(input, io) {
    const db = await openCloudTarget(input);
    try {
      const credential = await createKiosk(db, {
        kioskId: input['kiosk-id'],
        ...(input.name ? { name: input.name } : {}),
        ...(input.tariff ? { tariff: input.tariff } : {}),
      });
      io.out(`Kiosk ${credential.kioskId} created in ${describeCloudTarget(input)}.\n\n`);
      printKioskVariables(io, credential.kioskId, credential.secret, input['cloud-url']);
    } catch (error) {
      if (error instanceof CloudError && error.code === 'KIOSK_EXISTS') {
        throw new ProvisioningError(
          'KIOSK_EXISTS',
          `kiosk ${input['kiosk-id']} already exists: nothing changed (use "kiosk rotate-secret" for a new secret)`,
        );
      }
      throw error;
    } finally {
      await db.close();
    }
  },
});
