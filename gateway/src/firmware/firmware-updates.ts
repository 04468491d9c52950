import { join } from 'node:path';
import type { TechnicianGateway } from '../ui-api/kiosk-port.js';
import { FirmwareImages } from './firmware-images.js';
import { FirmwareRollouts } from './firmware-rollouts.js';
import type { FirmwareUpdates } from './firmware-routes.js';
import { FirmwareEnv } from './firmware-schemas.js';

/** The firmware store in `<dataDir>/firmware` and the rollout tracker, configured from GATEWAY_PUBLIC_URL. */
export function startFirmwareUpdates(
  gateway: TechnicianGateway & { dataDir: string },
  env: NodeJS.ProcessEnv = {},
): FirmwareUpdates {
  const { GATEWAY_PUBLIC_URL } = FirmwareEnv.parse(env);
  return {
    images: new FirmwareImages(gateway.store.db, join(gateway.dataDir, 'firmware')),
    rollouts: new FirmwareRollouts(gateway),
    publicUrl: GATEWAY_PUBLIC_URL,
  };
}
