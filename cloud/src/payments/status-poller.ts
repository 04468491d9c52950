import type { FastifyBaseLogger } from 'fastify';
import type { PaymentService } from './payments.js';

/**
 * Settles pending payments on a timer: MoMo sends its callback once and may never send it,
 * so the status query is what finally credits a payment whose callback was lost.
 */
export function startStatusPolling(payments: PaymentService, intervalMs: number, log: FastifyBaseLogger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    payments
      .pollPending()
      .catch((error: unknown) => log.error({ err: error }, 'payment status polling failed'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
