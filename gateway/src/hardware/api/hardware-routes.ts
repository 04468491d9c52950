import type { FastifyError, FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import * as z from 'zod';
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
    bucketMs: z.coerce.number().int().min(1000).max(DAY_MS).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  })
  .strict();

/**
 * Read-only hardware API for the technicians' UI:
 * GET /api/hardware — readings, switches, modem, interlock and active alerts;
 * GET /api/hardware/readings?sensor=&since=&until=&bucketMs=&limit= — a time series
 * (since defaults to 24 h ago, until to now; epoch ms).
 */
export async function hardwareRoutes(
  app: FastifyInstance,
  options: { hardware: HardwareApi; now?: () => number; onRequest?: onRequestHookHandler },
): Promise<void> {
  const { hardware } = options;
  const now = options.now ?? Date.now;
  if (options.onRequest) app.addHook('onRequest', options.onRequest);
  app.setErrorHandler(answerError);

  app.get('/api/hardware', async () => hardware.snapshot());

  app.get('/api/hardware/readings', async (request, reply) => {
    const parsed = SeriesQueryString.safeParse(request.query);
    if (!parsed.success) return badRequest(reply, z.prettifyError(parsed.error));
    const { sensor, bucketMs, limit } = parsed.data;
    if (!hardware.sensorIds().includes(sensor))
      return badRequest(reply, `unknown sensor ${sensor}; known: ${hardware.sensorIds().join(', ')}`);
    const until = parsed.data.until ?? now();
    const since = parsed.data.since ?? until - DAY_MS;
    if (since > until) return badRequest(reply, 'since must not be after until');
    const points = hardware.series({ sensor, since, until, bucketMs, limit });
    if (!points)
      return reply.code(503).send({ code: 'READINGS_UNAVAILABLE', message: 'readings are not stored on this gateway' });
    return { sensor, since, until, bucketMs: bucketMs ?? null, points };
  });
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ code: 'INVALID_QUERY', message });
}

/** Errors (a guard's refusal included) leave as `{ code, message }`; `status` wins over `statusCode`. */
function answerError(error: FastifyError & { status?: number }, _request: unknown, reply: FastifyReply) {
  const status = error.status ?? error.statusCode ?? 500;
  if (status >= 500) {
    reply.log.error({ err: error }, 'hardware API failed');
    return reply.code(500).send({ code: 'INTERNAL', message: 'the gateway failed to answer; see its log' });
  }
  return reply.code(status).send({ code: error.code ?? 'BAD_REQUEST', message: error.message });
}
