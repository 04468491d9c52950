import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/**
 * `tusafishe_event_loop_delay_max_seconds`: the longest the event loop was held since the previous
 * scrape (sampled every 10 ms). While it is held no dispenser is answered and no MQTT keepalive is
 * seen, so this is what a long SQLite transaction costs the kiosk (`npm run bench:sync` reads it).
 * Returns the closer.
 */
export function measureEventLoopDelay(registry: Registry): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  new Gauge({
    name: 'tusafishe_event_loop_delay_max_seconds',
    help: 'Longest event-loop delay since the previous scrape',
    registers: [registry],
    collect() {
      this.set(delay.max / 1e9);
      delay.reset();
    },
  });
  return () => delay.disable();
}
