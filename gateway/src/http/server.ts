import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { createWebSocketStream } from 'ws';
import { MAX_MQTT_PACKET_BYTES } from '../broker/packet-size-guard.js';
import { answerError } from './answer-error.js';
import type { Broker } from '../broker/broker.js';

export interface HttpServerOptions {
  logger: Logger;
  broker: Broker;
  rateLimitPerMinute: number;
  /** Serve HTTPS with the kiosk's certificate. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/**
 * The gateway's HTTP server: zod-validated routes, a rate limit on every route, typed
 * errors as `{ code, message }`, and MQTT over WebSocket at `/mqtt` for the browser UI.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    loggerInstance: options.logger.child({ module: 'http' }) as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(answerError);
  await app.register(rateLimit, { global: true, max: options.rateLimitPerMinute, timeWindow: 60_000 });
  // CSP (own scripts only, never framed), nosniff, no referrer. No upgrade-insecure-requests:
  // a kiosk may serve its UI over plain HTTP, where upgrading would break every request.
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: { frameAncestors: ["'none'"], upgradeInsecureRequests: null },
    },
    referrerPolicy: { policy: 'no-referrer' },
  });
  // One MQTT packet may span many WebSocket messages, so the frame cap alone bounds nothing:
  // the broker's packet-size guard and login caps apply to `/mqtt` exactly as to TCP.
  await app.register(websocket, { options: { maxPayload: MAX_MQTT_PACKET_BYTES } });
  app.withTypeProvider<ZodTypeProvider>().get('/mqtt', { websocket: true }, (socket, request) => {
    options.broker.accept(createWebSocketStream(socket), request.socket.remoteAddress);
  });
  return app;
}
