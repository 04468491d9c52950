import { z } from 'zod';
import { FIRMWARE_RELEASE_PUBLIC_KEY } from '@tusafishe/protocol';

/** Shapes of the firmware API; the UI imports the inferred types only. */

/** As the dispenser reports it in heartbeats (protocol: ≤ 32 characters), printable, no spaces. */
export const FirmwareVersion = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .regex(/^[\x21-\x7e]+$/, 'printable characters without spaces');

export const FirmwareImageView = z.object({
  version: z.string(),
  sha256: z.string(),
  size: z.number().int(),
  /** The release's anti-rollback counter: a dispenser refuses an image below the highest it installed. */
  counter: z.number().int(),
  uploaded_at: z.number().int(),
});
export type FirmwareImageView = z.infer<typeof FirmwareImageView>;
export const FirmwareImageList = z.object({ images: z.array(FirmwareImageView) });

export const DownloadParams = z.object({ file: z.string().regex(/^[0-9a-f]{64}\.bin$/) });

export const OtaBody = z.object({ version: FirmwareVersion });

export const RolloutView = z.object({
  dispenser_id: z.string(),
  version: z.string(),
  state: z.enum(['pending', 'downloading', 'installed', 'confirmed', 'failed']),
  message: z.string().nullable(),
  started_at: z.number().int(),
  updated_at: z.number().int(),
});
export type RolloutView = z.infer<typeof RolloutView>;
export const RolloutAnswer = z.object({ rollout: RolloutView.nullable() });
export type RolloutAnswer = z.infer<typeof RolloutAnswer>;

/** GATEWAY_PUBLIC_URL: the gateway as dispensers reach it, when the technician's Host header is not that address. */
export const FirmwareEnv = z.object({
  /** The release public key uploads must be signed with (raw Ed25519, base64); default: the fleet's, as built into the firmware. */
  FIRMWARE_PUBLIC_KEY: z.string().default(FIRMWARE_RELEASE_PUBLIC_KEY),
  GATEWAY_PUBLIC_URL: z
    .url()
    .regex(/^http:\/\//, 'dispensers download over plain http on the kiosk WiFi')
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
});
