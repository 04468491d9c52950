import type { onRequestHookHandler } from 'fastify';
import { type FastifyPluginAsyncZod, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { GatewayError } from '../../errors.js';
import { answerError } from '../../http/answer-error.js';
import type { HardwareSnapshot } from '../hardware-snapshot.js';
import type { ReadingPoint, SeriesQuery } from '../readings/readings-store.js';

export interface HardwareApi {
  snapshot(): HardwareSnapshot;
  /** Undefined when readings are not stored (no database). */
  series(query: SeriesQuery): ReadingPoint[] | undefined;
  sensorIds(): string[];
}

const DAY_MS = 24 * 3600_000;

const SeriesQueryString = z
  .object({
    sensor: z.string().min(1).max(32),
    since: z.coerce.number().int().min(0).optional(),
    until: z.coerce.number().int().min(0).optional(),
    bucket_ms: z.coerce.number().int().min(1000).max(DAY_MS).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  })
  .strict();

const Sensor = z.object({
  sensor: z.string(),
  kind: z.enum(['tank_level', 'quality']),
  status: z.enum(['ok', 'silent', 'pending']),
  value: z.number().nullable(),
  unit: z.string(),
  ok_min: z.number().nullable(),
  ok_max: z.number().nullable(),
  in_range: z.boolean().nullable(),
  at: z.number().int().nullable(),
  error: z.string().nullable(),
});

/** GET /api/hardware: the snake_case wire form of a HardwareSnapshot. */
const HardwareBody = z.object({
  at: z.number().int(),
  mode: z.enum(['hardware', 'simulated']),
  gpio: z.enum(['onoff', 'simulated', 'unavailable']),
  tank: z.object({
    level_percent: z.number().nullable(),
    litres: z.number().nullable(),
    low_float_wet: z.boolean(),
    high_float_wet: z.boolean(),
  }),
  pump: z.object({ on: z.boolean() }),
  uv_lamp: z.object({ on: z.boolean(), fault: z.boolean().nullable() }),
  door: z.object({ open: z.boolean() }),
  source_low: z.boolean().nullable(),
  sensors: z.array(Sensor),
  modem: z.object({
    state: z.enum(['not_fitted', 'absent', 'unresponsive', 'ok']),
    sim: z.string().nullable(),
    registration: z.string().nullable(),
    registered: z.boolean(),
    signal_dbm: z.number().nullable(),
    operator: z.string().nullable(),
    checked_at: z.number().int().nullable(),
    error: z.string().nullable(),
  }),
  /** The denial a dispense would get now, or null. */
  interlock: z.string().nullable(),
  alerts: z.array(
    z.object({
      id: z.string(),
      code: z.string(),
      severity: z.enum(['critical', 'warning']),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
      since: z.number().int(),
    }),
  ),
});
type HardwareBody = z.infer<typeof HardwareBody>;

const ReadingsBody = z.object({
  sensor: z.string(),
  since: z.number().int(),
  until: z.number().int(),
  bucket_ms: z.number().int().nullable(),
  points: z.array(z.object({ at: z.number().int(), value: z.number() })),
});

const ErrorBody = z.object({ code: z.string(), message: z.string() });

function hardwareBody(snapshot: HardwareSnapshot): HardwareBody {
  const { tank, modem } = snapshot;
  return {
    at: snapshot.at,
    mode: snapshot.mode,
    gpio: snapshot.gpio,
    tank: {
      level_percent: tank.levelPct,
      litres: tank.litres,
      low_float_wet: tank.lowFloatWet,
      high_float_wet: tank.highFloatWet,
    },
    pump: snapshot.pump,
    uv_lamp: snapshot.uvLamp,
    door: snapshot.door,
    source_low: snapshot.sourceLow,
    sensors: snapshot.sensors.map((s) => ({
      sensor: s.sensor,
      kind: s.kind,
      status: s.status,
      value: s.value,
      unit: s.unit,
      ok_min: s.okMin,
      ok_max: s.okMax,
      in_range: s.inRange,
      at: s.at,
      error: s.error,
    })),
    modem: {
      state: modem.state,
      sim: modem.sim,
      registration: modem.registration,
      registered: modem.registered,
      signal_dbm: modem.rssiDbm,
      operator: modem.operator,
      checked_at: modem.checkedAt,
      error: modem.error ?? null,
    },
    interlock: snapshot.interlock,
    alerts: snapshot.alerts.map((a) => ({
      id: a.id,
      code: a.key,
      severity: a.severity,
      message: a.message,
      details: a.details,
      since: a.raisedAt,
    })),
  };
}

/**
 * Read-only hardware API for the technicians' UI (snake_case, zod-checked, in `/api/openapi.json`):
 * GET /api/hardware — readings, switches, modem, interlock and active alerts;
 * GET /api/hardware/readings?sensor=&since=&until=&bucket_ms=&limit= — a time series
 * (since defaults to 24 h ago, until to now; epoch ms).
 */
export const hardwareRoutes: FastifyPluginAsyncZod<{
  hardware: HardwareApi;
  now?: () => number;
  onRequest?: onRequestHookHandler;
}> = async (app, options) => {
  const { hardware } = options;
  const now = options.now ?? Date.now;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  if (options.onRequest) app.addHook('onRequest', options.onRequest);
  app.setErrorHandler(answerError);

  app.get(
    '/api/hardware',
    { schema: { tags: ['hardware'], response: { 200: HardwareBody, 401: ErrorBody } } },
    async () => hardwareBody(hardware.snapshot()),
  );

  app.get(
    '/api/hardware/readings',
    {
      schema: {
        tags: ['hardware'],
        querystring: SeriesQueryString,
        response: { 200: ReadingsBody, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => {
      const { sensor, bucket_ms: bucketMs, limit } = request.query;
      if (!hardware.sensorIds().includes(sensor))
        throw new GatewayError('INVALID_QUERY', `unknown sensor ${sensor}; known: ${hardware.sensorIds().join(', ')}`);
      const until = request.query.until ?? now();
      const since = request.query.since ?? until - DAY_MS;
      if (since > until) throw new GatewayError('INVALID_QUERY', 'since must not be after until');
      const points = hardware.series({ sensor, since, until, bucketMs, limit });
      if (!points) throw new GatewayError('READINGS_UNAVAILABLE');
      return { sensor, since, until, bucket_ms: bucketMs ?? null, points };
    },
  );
};
