import { createReadStream } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from 'better-sqlite3';
import { DispenserParams, ErrorBody } from '../ui-api/api-schemas.js';
import { recordAudit } from '../ui-api/technician-audit.js';
import { GatewayError } from '../errors.js';
import { technicianGuard } from '../ui-api/technician-guard.js';
import type { FirmwareImageRecord, FirmwareImages } from './firmware-images.js';
import type { FirmwareRollouts, RolloutRecord } from './firmware-rollouts.js';
import {
  DownloadParams,
  FirmwareImageList,
  FirmwareImageView,
  OtaBody,
  RolloutAnswer,
  type RolloutView,
} from './firmware-schemas.js';

/** An ESP32 app partition is 1.5–3 MB; anything larger is not a dispenser image. */
export const MAX_IMAGE_BYTES = 4 * 1024 * 1024;
/** Per client IP on the image download: a few dispensers updating, never a scraper. */
const DOWNLOAD_RATE_LIMIT = { max: 30, timeWindow: 60_000 };

export interface FirmwareUpdates {
  images: FirmwareImages;
  rollouts: FirmwareRollouts;
  /** The gateway's base URL as dispensers reach it; unset: the technician's Host header. */
  publicUrl?: string | undefined;
}

const imageView = ({ version, sha256, size, counter, uploaded_at }: FirmwareImageRecord): FirmwareImageView => ({
  version,
  sha256,
  size,
  counter,
  uploaded_at,
});
const rolloutView = ({
  dispenser_id,
  version,
  state,
  message,
  started_at,
  updated_at,
}: RolloutRecord): RolloutView => ({ dispenser_id, version, state, message, started_at, updated_at });

/** Signed-in routes: upload and list images, start and follow a dispenser's update. */
const technicianRoutes: FastifyPluginAsyncZod<FirmwareUpdates & { db: Database }> = async (
  app,
  { db, images, rollouts, publicUrl },
) => {
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES },
    (_request, body, done) => done(null, body),
  );
  const uploadGuard = technicianGuard(db, 'application/octet-stream');
  const guard = technicianGuard(db);

  app.post(
    '/api/firmware',
    {
      onRequest: uploadGuard,
      bodyLimit: MAX_IMAGE_BYTES,
      schema: {
        summary:
          'Upload a release-signed dispenser firmware file (`npm run provision -- firmware sign`; raw application/octet-stream body, ≤ 4 MB)',
        tags: ['firmware'],
        response: {
          200: FirmwareImageView,
          400: ErrorBody,
          401: ErrorBody,
          409: ErrorBody,
          413: ErrorBody,
          415: ErrorBody,
        },
      },
    },
    async (request) => {
      const bytes = request.body;
      if (!Buffer.isBuffer(bytes) || bytes.byteLength === 0)
        throw new GatewayError('INVALID_FIRMWARE', 'the image is empty');
      const technicianId = request.technician?.technicianId ?? null;
      const { image, created } = images.add(bytes, technicianId);
      if (created)
        recordAudit(db, {
          technicianId,
          action: 'firmware_upload',
          target: image.version,
          details: { sha256: image.sha256, size: image.size },
        });
      return imageView(image);
    },
  );

  app.get(
    '/api/firmware',
    {
      onRequest: guard,
      schema: {
        summary: 'Uploaded firmware images, newest first',
        tags: ['firmware'],
        response: { 200: FirmwareImageList, 401: ErrorBody },
      },
    },
    async () => ({ images: images.list().map(imageView) }),
  );

  app.post(
    '/api/dispensers/:dispenserId/ota',
    {
      onRequest: guard,
      schema: {
        summary: 'Send a dispenser an uploaded firmware version (refused while it dispenses)',
        tags: ['firmware'],
        params: DispenserParams,
        body: OtaBody,
        response: { 200: RolloutAnswer, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      const { dispenserId } = request.params;
      const image = images.byVersion(request.body.version);
      if (!image) throw new GatewayError('UNKNOWN_FIRMWARE', request.body.version);
      const base = publicUrl ?? `http://${request.headers.host ?? ''}`;
      if (!URL.canParse(base))
        throw new GatewayError('INVALID_FIRMWARE', 'cannot tell the gateway address; set GATEWAY_PUBLIC_URL');
      const technicianId = request.technician?.technicianId ?? null;
      const rollout = await rollouts.start(dispenserId, image, `${base}/firmware/${image.sha256}.bin`, technicianId);
      recordAudit(db, {
        technicianId,
        action: 'firmware_update',
        target: dispenserId,
        details: { version: image.version, command_id: rollout.command_id },
      });
      return { rollout: rolloutView(rollout) };
    },
  );

  app.get(
    '/api/dispensers/:dispenserId/ota',
    {
      onRequest: guard,
      schema: {
        summary: "A dispenser's latest firmware update",
        tags: ['firmware'],
        params: DispenserParams,
        response: { 200: RolloutAnswer, 401: ErrorBody },
      },
    },
    async (request) => {
      const rollout = rollouts.get(request.params.dispenserId);
      return { rollout: rollout ? rolloutView(rollout) : null };
    },
  );
};

/** `GET /firmware/<sha256>.bin`: read-only, for dispensers on the kiosk WiFi, which verify the hash themselves. */
const downloads: FastifyPluginAsyncZod<FirmwareUpdates> = async (app, { images }) => {
  app.get(
    '/firmware/:file',
    {
      config: { rateLimit: DOWNLOAD_RATE_LIMIT },
      schema: { summary: 'A firmware image by its SHA-256', tags: ['firmware'], params: DownloadParams },
    },
    async (request, reply) => {
      const image = images.bySha(request.params.file.slice(0, 64));
      if (!image) throw new GatewayError('UNKNOWN_FIRMWARE', request.params.file);
      reply.type('application/octet-stream').header('content-length', image.size);
      return reply.send(createReadStream(images.path(image.sha256)));
    },
  );
};

/** Registered by the technician API when the gateway has a firmware store. */
export const firmwareRoutes: FastifyPluginAsync<FirmwareUpdates & { db: Database }> = async (app, options) => {
  await app.register(technicianRoutes, options);
  await app.register(downloads, options);
};
