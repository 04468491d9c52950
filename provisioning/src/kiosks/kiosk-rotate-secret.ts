import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { KioskId } from '@tusafishe/protocol';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';
import { CLOUD_TARGET_ENV, CloudTargetInput, CloudTargetOptions, openCloudTarget } from '../stores/cloud-database.js';
import { CloudUrlInput, CloudUrlOption, printKioskVariables } from './kiosk-variables.js';

export const kioskRotateSecret = defineCommand({
  name: 'kiosk rotate-secret',
  summary:
    "Gives a kiosk a new cloud secret; the old one stops working at once (the gateway's sync fails until KIOSK_SECRET is updated).",
  positionals: ['kiosk-id'],
  options: { ...CloudUrlOption, ...CloudTargetOptions },
  secretEnv: CLOUD_TARGET_ENV,
  notes: 'example: npm run provision -- kiosk rotate-secret KIOSK-042 --data-dir ./data',
  schema: z.object({ 'kiosk-id': KioskId, ...CloudUrlInput, ...CloudTargetInput }),
  async run(input, io) {
    const kioskId = input['kiosk-id'];
    // Same strength as createKiosk's secrets.
    const secret = randomBytes(24).toString('base64url');
    const db = await openCloudTarget(input);
    try {
      const rows = await db.query('UPDATE kiosks SET credential_hash = $2 WHERE kiosk_id = $1 RETURNING kiosk_id', [
        kioskId,
        await hashSecret(secret),
      ]);
      if (rows.length === 0)
        throw new ProvisioningError(
          'UNKNOWN_KIOSK',
          `no kiosk ${kioskId}: nothing changed (create it with "kiosk create")`,
        );
    } finally {
      await db.close();
    }
    io.out(`Kiosk ${kioskId} has a new secret; the old one no longer authenticates.\n\n`);
    printKioskVariables(io, kioskId, secret, input['cloud-url']);
  },
});
