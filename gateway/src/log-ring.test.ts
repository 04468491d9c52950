import { secretToken } from '@tusafishe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { LogRing } from './log-ring.js';
import { createLogger } from './logger.js';

describe('log ring', () => {
  it('keeps only the newest entries at info and above, whatever stdout logs', () => {
    const ring = new LogRing(3);
    const logger = createLogger({ level: 'silent' }, ring);
    logger.debug('too detailed');
    for (let i = 1; i <= 5; i++) logger.info({ n: i }, `line ${i}`);
    expect(ring.recent({ level: 'info', limit: 10 }).map((entry) => entry.msg)).toEqual(['line 5', 'line 4', 'line 3']);
    expect(ring.recent({ level: 'info', limit: 2 })).toHaveLength(2);
    expect(ring.recent({ level: 'info', limit: 1 })[0]).toMatchObject({
      level: 'info',
      module: 'core',
      fields: { n: 5 },
    });
  });

  it('filters by level and by the child logger module', () => {
    const ring = new LogRing();
    const logger = createLogger({ level: 'silent' }, ring);
    logger.child({ module: 'sync' }).error({ err: new Error('ECONNREFUSED') }, 'pull failed');
    logger.child({ module: 'hardware' }).warn('modem not registered');
    logger.info('gateway listening');
    expect(ring.recent({ level: 'warn', limit: 10 }).map((entry) => entry.msg)).toEqual([
      'modem not registered',
      'pull failed',
    ]);
    const [failure] = ring.recent({ level: 'info', module: 'sync', limit: 10 });
    expect(failure).toMatchObject({ level: 'error', module: 'sync', fields: { err: { message: 'ECONNREFUSED' } } });
    expect(ring.modules()).toEqual(['core', 'hardware', 'sync']);
  });

  it('holds what pino wrote, redacted, and bounds each entry', () => {
    const ring = new LogRing();
    const logger = createLogger({ level: 'silent' }, ring);
    logger.warn(
      {
        pin: '4821',
        customer: { pin: '4821', password: 'pw-leak' },
        req: { headers: { authorization: 'Bearer t0k' } },
      },
      'wrong PIN',
    );
    logger.info({ reqId: 'req-1' }, 'request completed');
    logger.info({ blob: 'x'.repeat(10_000) }, 'huge');
    const [huge, wrongPin] = ring.recent({ level: 'info', limit: 10 });
    // As tokens: the entry's epoch-ms time may hold the PIN's digits by chance.
    for (const secret of ['4821', 'pw-leak', 't0k']) expect(JSON.stringify(wrongPin)).not.toMatch(secretToken(secret));
    expect(wrongPin?.fields).toMatchObject({
      pin: '[redacted]',
      customer: { pin: '[redacted]', password: '[redacted]' },
    });
    expect(huge).toMatchObject({ msg: 'huge', fields: { truncated: expect.stringMatching(/characters$/) } });
  });
});
