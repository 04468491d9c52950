import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { measureEventLoopDelay } from './event-loop-delay.js';

it('reports the longest the event loop was held since the previous scrape', async () => {
  const registry = new Registry();
  const close = measureEventLoopDelay(registry);
  const scrape = async (): Promise<number> =>
    Number(/^tusafishe_event_loop_delay_max_seconds (\S+)$/m.exec(await registry.metrics())![1]);
  await scrape();
  await sleep(30);
  const held = Date.now() + 300;
  while (Date.now() < held); // a 300 ms synchronous task, as a long SQLite transaction would be
  await sleep(30);
  expect(await scrape()).toBeGreaterThanOrEqual(0.25);
  close();
});
