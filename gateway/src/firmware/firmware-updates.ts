import { join } from 'node:path';
import { releasePublicKey } from '@tusafishe/protocol/signed-firmware';
import type { TechnicianGateway } from '../ui-api/kiosk-port.js';
import { FirmwareImages } from './firmware-images.js';
import { FirmwareRollouts } from './firmware-rollouts.js';
import type { FirmwareUpdates } from './firmware-routes.js';
import { FirmwareEnv } from './firmware-schemas.js';

/** The firmware store in `<dataDir>/firmware` and the rollout tracker, configured from GATEWAY_PUBLIC_URL and FIRMWARE_PUBLIC_KEY. */
export function startFirmwareUpdates(
  gateway: TechnicianGateway & { dataDir: string },
  env: NodeJS.ProcessEnv = {},
): FirmwareUpdates {
  const { GATEWAY_PUBLIC_URL, FIRMWARE_PUBLIC_KEY } = FirmwareEnv.parse(env);
  return {
    images: new FirmwareImages(
      gateway.store.db,
      join(gateway.dataDir, 'firmware'),
      releasePublicKey(FIRMWARE_PUBLIC_KEY),
    ),
    rollouts: new FirmwareRollouts(gateway),
    publicUrl: GATEWAY_PUBLIC_URL,
  };
}
