import { KioskId } from '@tusafishe/protocol';
import * as z from 'zod';

/**
 * Sync settings from the environment (balena device variables). Without CLOUD_URL the
 * kiosk runs stand-alone and says so; with it, KIOSK_ID and KIOSK_SECRET are required.
 */
const SyncEnv = z.object({
  CLOUD_URL: z.url({ protocol: /^https?$/ }).optional(),
  KIOSK_ID: z.optional(KioskId),
  KIOSK_SECRET: z.string().min(8).max(200).optional(),
  /** Records a pull page may carry (the cloud caps it at 5000). */
  SYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(5000).default(2000),
  /** The stream's heartbeat and the longest long-poll the gateway asks for; shortened to stay inside the offline threshold. */
  SYNC_LONG_POLL_S: z.coerce.number().int().min(0).max(30).default(25),
});

/** SYNC_STATUS_INTERVAL_S: how often the kiosk status goes to the cloud (1–3600 s, default 60). */
export function readStatusIntervalMs(env: NodeJS.ProcessEnv): number {
  return z.coerce.number().int().min(1).max(3600).default(60).parse(env['SYNC_STATUS_INTERVAL_S']) * 1000;
}

export interface SyncConfig {
  cloudUrl: string;
  kioskId: string;
  secret: string;
  pageSize: number;
  longPollS: number;
}

export type SyncConfigResult = { enabled: true; config: SyncConfig } | { enabled: false; reason: string };

/** Throws a ZodError naming the variable when a value is present but invalid. */
export function readSyncConfig(env: NodeJS.ProcessEnv): SyncConfigResult {
  const parsed = SyncEnv.superRefine((value, ctx) => {
    if (value.CLOUD_URL === undefined) return;
    for (const key of ['KIOSK_ID', 'KIOSK_SECRET'] as const) {
      if (value[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `required when CLOUD_URL is set` });
    }
  }).parse(env);
  if (parsed.CLOUD_URL === undefined) return { enabled: false, reason: 'CLOUD_URL is not set: cloud sync disabled' };
  return {
    enabled: true,
    config: {
      cloudUrl: parsed.CLOUD_URL,
      kioskId: parsed.KIOSK_ID as string,
      secret: parsed.KIOSK_SECRET as string,
      pageSize: parsed.SYNC_PAGE_SIZE,
      longPollS: parsed.SYNC_LONG_POLL_S,
    },
  };
}
