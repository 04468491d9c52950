import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { hardwareRoutes } from './hardware-routes.js';

/** A gateway without a database keeps no readings (`series` answers undefined). */
const app = Fastify({ logger: false });
await app.register(hardwareRoutes, {
  hardware: {
    snapshot: () => {
      throw new Error('not asked for here');
    },
    series: () => undefined,
    sensorIds: () => ['tank_level'],
  },
});
afterAll(() => app.close());

describe('GET /api/hardware/readings refusals, through the error registry', () => {
  it('answers 503 READINGS_UNAVAILABLE when readings are not stored', async () => {
    const answer = await app.inject({ url: '/api/hardware/readings?sensor=tank_level' });
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toEqual({
      code: 'READINGS_UNAVAILABLE',
      message: 'readings are not stored on this gateway',
    });
  });

  it('answers 400 INVALID_QUERY for an unknown sensor and for since after until', async () => {
    const unknown = await app.inject({ url: '/api/hardware/readings?sensor=ph' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ code: 'INVALID_QUERY', message: 'unknown sensor ph; known: tank_level' });
    const backwards = await app.inject({ url: '/api/hardware/readings?sensor=tank_level&since=2000&until=1000' });
    expect(backwards.json()).toEqual({ code: 'INVALID_QUERY', message: 'since must not be after until' });
  });
});
