import type { FastifyInstance } from 'fastify';
import type { Broker } from '../broker/broker.js';
import type { Store } from '../store/store.js';

/** `GET /health`: liveness plus the few figures a technician checks first. */
export function registerHealth(app: FastifyInstance, deps: { kioskId: string; store: Store; broker: Broker }): void {
  const started = Date.now();
  app.get('/health', async () => ({
    status: 'ok',
    kiosk_id: deps.kioskId,
    mqtt_clients: deps.broker.aedes.connectedClients,
    customers: deps.store.customers.count(),
    last_cloud_contact: deps.store.lastCloudContact(),
    uptime_s: Math.floor((Date.now() - started) / 1000),
  }));
}
