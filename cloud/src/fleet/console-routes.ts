import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorBody } from '../console/api-schemas.js';
import { signedInOperator } from '../console/console-guard.js';
import type { OperatorRole } from '../console/roles.js';
import { CloudError } from '../errors.js';
import { acknowledgeAlert, listAlerts } from './alerts.js';
import type { FleetMonitoring } from './fleet-monitoring.js';
import {
  AckAnswer,
  AlertList,
  AlertParams,
  AlertQuery,
  FleetFirmwareView,
  FleetImage,
  KioskDetailView,
  KioskList,
  KioskParams,
  RolloutParams,
  RolloutStart,
  RolloutViewSchema,
} from './console-schemas.js';

/** Who reads the fleet (finance and customer service read-only); who acts on it. */
const READERS: readonly OperatorRole[] = ['field', 'finance', 'customer_service'];
const FIELD: readonly OperatorRole[] = ['field'];
/** An ESP32 app partition is 1.5–3 MB; anything larger is not a dispenser image. */
const MAX_IMAGE_BYTES = 4 * 1024 * 1024;

/**
 * The console's kiosks, alerts, live feed and fleet firmware under `/console/api` (cloud README,
 * "Operations console: kiosks, alerts, fleet firmware"). Everyone signed in but `field` and
 * `admin` only reads; acknowledging alerts and firmware rollouts are `field`'s.
 */
export const fleetConsoleRoutes: FastifyPluginAsyncZod<{ fleet: FleetMonitoring }> = async (app, { fleet }) => {
  const { db } = fleet;
  const offlineAfterMs = fleet.settings.kioskOfflineAfterMs;

  app.get(
    '/kiosks',
    {
      config: { roles: READERS },
      schema: {
        tags: ['kiosks'],
        summary: 'Every kiosk: contact, online, last status, open alerts',
        response: { 200: KioskList },
      },
    },
    async () => ({ offline_after_s: offlineAfterMs / 1000, kiosks: await fleet.kiosks() }),
  );

  app.get(
    '/kiosks/:kioskId',
    {
      config: { roles: READERS },
      schema: {
        tags: ['kiosks'],
        summary: "One kiosk: status, dispensers, open alerts, today's litres and denials",
        params: KioskParams,
        response: { 200: KioskDetailView, 404: ErrorBody },
      },
    },
    async (request) => fleet.kiosk(request.params.kioskId),
  );

  app.get(
    '/alerts',
    {
      config: { roles: READERS },
      schema: {
        tags: ['alerts'],
        summary: 'Open alerts (or all, newest first), most severe first',
        querystring: AlertQuery,
        response: { 200: AlertList },
      },
    },
    async (request) => ({
      alerts: await listAlerts(db, {
        state: request.query.state,
        ...(request.query.kiosk ? { kioskId: request.query.kiosk } : {}),
        limit: request.query.limit,
      }),
    }),
  );

  app.post(
    '/alerts/:alertId/acknowledge',
    {
      config: { roles: FIELD },
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge an alert in the signed-in operator’s name (audited)',
        params: AlertParams,
        response: { 200: AckAnswer, 404: ErrorBody },
      },
    },
    async (request) => {
      const alert = await acknowledgeAlert(db, request.params.alertId, signedInOperator(request).username);
      return { alert };
    },
  );

  app.get(
    '/live',
    {
      config: { roles: READERS },
      schema: {
        tags: ['live'],
        summary:
          'Server-sent events: `alert` (raised, cleared, acknowledged), `dispense` (the fleet’s), `kiosk` (a status report), `rollout` (progress)',
      },
    },
    async (_request, reply) => fleet.live.attach(reply),
  );

  app.get(
    '/firmware',
    {
      config: { roles: FIELD },
      schema: {
        tags: ['firmware'],
        summary: 'Uploaded images and the latest rollouts with their progress',
        response: { 200: FleetFirmwareView },
      },
    },
    async () => ({ images: await fleet.firmware.listImages(), rollouts: await fleet.firmware.list() }),
  );

  app.register(async (upload) => {
    upload.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES },
      (_request, body, done) => done(null, body),
    );
    upload.post(
      '/firmware/images',
      {
        config: { roles: FIELD, stateChangeBody: 'application/octet-stream' },
        bodyLimit: MAX_IMAGE_BYTES,
        schema: {
          tags: ['firmware'],
          summary: 'Upload a release-signed dispenser firmware file (raw application/octet-stream, ≤ 4 MB)',
          response: { 200: FleetImage, 400: ErrorBody, 409: ErrorBody },
        },
      },
      async (request) => {
        const bytes = request.body;
        if (!Buffer.isBuffer(bytes) || bytes.byteLength === 0)
          throw new CloudError('INVALID_FIRMWARE', 'the firmware file is empty');
        return (await fleet.firmware.addImage(bytes, signedInOperator(request).username)).image;
      },
    );
  });

  app.post(
    '/firmware/rollouts',
    {
      config: { roles: FIELD },
      schema: {
        tags: ['firmware'],
        summary: 'Start rolling an uploaded version out to every kiosk or a list (the previous rollout stops)',
        body: RolloutStart,
        response: { 200: RolloutViewSchema, 404: ErrorBody },
      },
    },
    async (request) => {
      const { version, kiosks } = request.body;
      return fleet.firmware.start(
        { version, kioskIds: kiosks === 'all' ? null : kiosks },
        signedInOperator(request).username,
      );
    },
  );

  app.post(
    '/firmware/rollouts/:rolloutId/stop',
    {
      config: { roles: FIELD },
      schema: {
        tags: ['firmware'],
        summary: 'Stop a rollout: kiosks start no further dispenser (an update under way finishes)',
        params: RolloutParams,
        response: { 200: RolloutViewSchema, 404: ErrorBody },
      },
    },
    async (request) => fleet.firmware.stop(request.params.rolloutId, signedInOperator(request).username),
  );
};
