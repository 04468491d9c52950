import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';

export interface ConsoleAppOptions {
  /** The built console (`ui/console/dist`); without `index.html` there only the API is served. */
  distDir: string | undefined;
}

/**
 * The console's web app at `/console/` (hash routes: one index.html), sent with a CSP that
 * allows only its own scripts and forbids framing, nosniff and no referrer.
 */
export const consoleApp: FastifyPluginAsync<ConsoleAppOptions> = async (app, { distDir }) => {
  if (!distDir || !existsSync(join(distDir, 'index.html'))) {
    if (distDir)
      app.log.warn({ console_dist_dir: distDir }, 'console not built (npm run build -w @tusafishe/ui): API only');
    return;
  }
  await app.register(helmet, {
    contentSecurityPolicy: { directives: { frameAncestors: ["'none'"], upgradeInsecureRequests: null } },
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));
  await app.register(fastifyStatic, { root: distDir, prefix: '/console/' });
};
