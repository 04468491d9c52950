import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { answerError } from './answer-error.js';

const app = Fastify({ logger: false });
app.setErrorHandler(answerError);
app.get('/locked', async () => {
  throw new GatewayError('TECHNICIAN_LOCKED', 'try again later', { locked_until: 42 });
});
app.get('/busy', async () => {
  throw new GatewayError('DISPENSER_BUSY', 'D1 is dispensing water');
});
app.get('/broken', async () => {
  throw new Error('SQLITE_CORRUPT at /var/lib/secret/path');
});

describe('answerError', () => {
  it('answers a GatewayError with the status its code has in the registry, details included', async () => {
    const locked = await app.inject({ url: '/locked' });
    expect(locked.statusCode).toBe(423);
    expect(locked.json()).toEqual({ code: 'TECHNICIAN_LOCKED', message: 'try again later', locked_until: 42 });
    const busy = await app.inject({ url: '/busy' });
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'DISPENSER_BUSY' });
  });

  it('answers an unexpected failure with a 500 that shows nothing of its internals', async () => {
    const broken = await app.inject({ url: '/broken' });
    expect(broken.statusCode).toBe(500);
    expect(broken.json().code).toBe('INTERNAL');
    expect(broken.body).not.toContain('SQLITE_CORRUPT');
  });
});
