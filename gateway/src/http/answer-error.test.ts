import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { answerError } from './answer-error.js';

const app = Fastify({ logger: false });
app.setErrorHandler(answerError);
app.get('/locked', async () => {
  throw new GatewayError('TECHNICIAN_LOCKED', { locked_until: 42 });
});
app.get('/busy', async () => {
  throw new GatewayError('DISPENSER_BUSY', 'D1');
});
app.get('/broken', async () => {
  throw new Error('SQLITE_CORRUPT at /var/lib/secret/path');
});

describe('answerError', () => {
  it('answers a GatewayError with the status and message its code has in the registry, details included', async () => {
    const locked = await app.inject({ url: '/locked' });
    expect(locked.statusCode).toBe(423);
    expect(locked.json()).toEqual({
      code: 'TECHNICIAN_LOCKED',
      message: 'too many wrong passwords: try again later',
      locked_until: 42,
    });
    const busy = await app.inject({ url: '/busy' });
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toEqual({
      code: 'DISPENSER_BUSY',
      message: 'D1 is dispensing water; update it when the customer has finished',
    });
  });

  it('fills a template with its arguments in order', () => {
    expect(new GatewayError('FIRMWARE_CURRENT', 'D2', 'tusafishe-fw/0.2.0').message).toBe(
      'D2 already runs tusafishe-fw/0.2.0',
    );
    expect(new GatewayError('MQTT_PACKET_TOO_LARGE', 20_000, 16_384).message).toBe(
      'MQTT packet of 20000 bytes exceeds 16384',
    );
  });

  it('answers an unexpected failure with a 500 that shows nothing of its internals', async () => {
    const broken = await app.inject({ url: '/broken' });
    expect(broken.statusCode).toBe(500);
    expect(broken.json().code).toBe('INTERNAL');
    expect(broken.body).not.toContain('SQLITE_CORRUPT');
  });
});
