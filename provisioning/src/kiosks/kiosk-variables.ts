import * as z from 'zod';
import type { CommandIo } from '../command-line.js';

export const CloudUrlOption = {
  'cloud-url': {
    type: 'string',
    value: 'url',
    env: 'CLOUD_URL',
    description: "the cloud's public https URL, printed for the gateway",
  },
} as const;

export const CloudUrlInput = { 'cloud-url': z.url({ protocol: /^https?$/ }).optional() };

/** The balena device variables that connect a gateway to the cloud (read by gateway/src/sync/sync-config.ts). */
export function printKioskVariables(
  io: CommandIo,
  kioskId: string,
  secret: string,
  cloudUrl: string | undefined,
): void {
  io.out(
    [
      `Set these balena device variables on kiosk ${kioskId}'s gateway. The secret is shown only this once:`,
      'the cloud keeps only its salted hash. Paste it into balena and do not store it anywhere else.',
      '',
      `  KIOSK_ID=${kioskId}`,
      `  KIOSK_SECRET=${secret}`,
      `  CLOUD_URL=${cloudUrl ?? "<the cloud's public https URL>"}`,
      '',
    ].join('\n'),
  );
}
