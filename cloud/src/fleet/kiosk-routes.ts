import type { FastifyInstance } from 'fastify';
import { KioskStatusAnswer, KioskStatusReport, STATUS_PATH } from '@tusafishe/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { KIOSK_ROUTE_LOG_LEVEL, requireKiosk } from '../http/kiosk-auth.js';
import type { KioskAuthenticator } from '../kiosks/kiosks.js';
import type { Db } from '../store/db.js';
import type { KioskContacts } from './contacts.js';
import type { FleetFirmware } from './firmware.js';
import { recordKioskStatus } from './kiosk-status.js';

export interface FleetKioskRouteDeps {
  db: Db;
  authenticator: KioskAuthenticator;
  contacts: KioskContacts;
  firmware: FleetFirmware;
}

/** A gateway reports at most once a minute, a little more while a rollout moves. */
const STATUS_RATE_LIMIT = {
  max: 120,
  timeWindow: 60_000,
  keyGenerator: (r: { kioskId: string }) => `status:${r.kioskId}`,
};

/** The kiosk status report and the fleet firmware download (protocol/src/kiosk-status.ts). */
export async function fleetKioskRoutes(app: FastifyInstance, deps: FleetKioskRouteDeps): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireKiosk(deps.authenticator);

  typed.post(
    STATUS_PATH,
    {
      schema: { body: KioskStatusReport, response: { 200: KioskStatusAnswer } },
      onRequest,
      config: { rateLimit: STATUS_RATE_LIMIT },
      bodyLimit: 256 * 1024,
      logLevel: KIOSK_ROUTE_LOG_LEVEL,
    },
    async (request) => {
      await deps.contacts.record(request.kioskId);
      return recordKioskStatus(deps.db, deps.firmware, request.kioskId, request.body);
    },
  );

  typed.get(
    '/kiosk/v1/firmware/:sha256',
    {
      schema: { params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }) },
      onRequest,
      config: { rateLimit: STATUS_RATE_LIMIT },
    },
    async (request, reply) => {
      const file = await deps.firmware.signedFile(request.kioskId, request.params.sha256);
      if (!file)
        return reply.code(404).send({ code: 'UNKNOWN_FIRMWARE', message: 'no rollout gives this kiosk that image' });
      return reply.type('application/octet-stream').send(file);
    },
  );
}
