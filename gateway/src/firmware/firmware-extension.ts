import { join } from 'node:path';
import { releasePublicKey } from '@tusafishe/protocol/signed-firmware';
import type { GatewayExtension } from '../extension.js';
import type { TechnicianGateway } from '../ui-api/kiosk-port.js';
import { FirmwareImages } from './firmware-images.js';
import { FirmwareRollouts } from './firmware-rollouts.js';
import type { FirmwareUpdates } from './firmware-routes.js';
import { FirmwareEnv } from './firmware-schemas.js';

/**
 * Dispenser firmware updates as a gateway extension: the image store in `<dataDir>/firmware`
 * and the rollout tracker, configured from GATEWAY_PUBLIC_URL and FIRMWARE_PUBLIC_KEY; rollouts
 * follow the dispensers' reports from `start()` to `stop()`. The technician API serves it.
 */
export function firmwareExtension(
  gateway: TechnicianGateway & { dataDir: string },
  env: NodeJS.ProcessEnv = {},
): FirmwareUpdates & GatewayExtension {
  const { GATEWAY_PUBLIC_URL, FIRMWARE_PUBLIC_KEY } = FirmwareEnv.parse(env);
  const rollouts = new FirmwareRollouts(gateway);
  return {
    name: 'firmware',
    images: new FirmwareImages(
      gateway.store.db,
      join(gateway.dataDir, 'firmware'),
      releasePublicKey(FIRMWARE_PUBLIC_KEY),
    ),
    rollouts,
    publicUrl: GATEWAY_PUBLIC_URL,
    start: async () => rollouts.listen(),
    stop: async () => rollouts.unlisten(),
  };
}
