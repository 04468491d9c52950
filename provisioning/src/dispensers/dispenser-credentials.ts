import { randomBytes } from 'node:crypto';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import type { CommandIo } from '../command-line.js';

export interface DispenserSecret {
  secret: string;
  /** What the gateway stores; the broker checks logins against it. */
  hash: string;
}

/** 144 random bits, printable, short enough to type into a flashing tool. */
export async function newDispenserSecret(): Promise<DispenserSecret> {
  const secret = randomBytes(18).toString('base64url');
  return { secret, hash: await hashSecret(secret) };
}

export interface DispenserFlashing {
  dispenserId: string;
  secret: string;
  brokerHost: string | undefined;
  mqttPort: number;
}

/**
 * Printed once, never logged. Keys are those the device firmware reads from its flash
 * preferences (domain "tusafishe-id", dispenser-firmware/src/device/main.ts).
 */
export function printDispenserFlashing(io: CommandIo, flashing: DispenserFlashing): void {
  const host = flashing.brokerHost ?? "<the gateway's address on the kiosk WiFi>";
  io.out(
    [
      `Flash these into dispenser ${flashing.dispenserId}'s preferences (domain "tusafishe-id"). The password is shown only`,
      'this once: the gateway keeps only its salted hash.',
      '',
      `  id=${flashing.dispenserId}`,
      `  password=${flashing.secret}`,
      `  broker=${host}`,
      `  port=${flashing.mqttPort}`,
      '',
      `MQTT login: username and client id ${flashing.dispenserId}, broker mqtt://${host}:${flashing.mqttPort}`,
      '',
    ].join('\n'),
  );
}
