import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { AppMetrics } from '../metrics.ts';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './error-handler.ts';
import { AppError } from './errors.ts';

/** The route label of an answer no route took (the not-found handler): one series, whatever the URL. */
const unmatchedRoute = '(unmatched)';

/**
 * Counts and times every answer by method, route pattern (never the raw URL: ids would make a
 * series per activation) and status. Register on the root instance before any route.
 */
export function registerRequestMetrics(app: FastifyInstance, metrics: AppMetrics): void {
  // A callback hook: an async one would cost every answer a promise.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest({
      method: request.method,
      route: request.routeOptions.url ?? unmatchedRoute,
      statusCode: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    });
    done();
  });
}

async function sendScrape(metrics: AppMetrics, reply: FastifyReply) {
  const text = await metrics.scrape();
  return reply.type(metrics.contentType).send(text);
}

/** Compares in constant time (over digests, so the length of the token does not leak either). */
function tokenMatches(authorization: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/**
 * GET /metrics on the app's own port, for `Authorization: Bearer <NOVA_METRICS_TOKEN>` only:
 * metrics name providers and show volumes, so they are not public. Not in the OpenAPI document.
 */
export async function metricsRoutes(app: FastifyInstance, options: { metrics: AppMetrics; token: string }) {
  const { metrics, token } = options;
  app.get('/metrics', { logLevel: 'warn', schema: { hide: true } }, async (request, reply) => {
    if (!tokenMatches(request.headers.authorization, token)) {
      throw new AppError('unauthorized', 'Send the metrics token: Authorization: Bearer <NOVA_METRICS_TOKEN>', {
        headers: { 'www-authenticate': 'Bearer realm="metrics"' },
      });
    }
    return sendScrape(metrics, reply);
  });
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/**
 * NOVA_METRICS_PORT: /metrics without a token on a listener of its own, for a private network
 * the public reverse proxy does not reach. It serves nothing else (404 envelope).
 */
export async function startMetricsListener(metrics: AppMetrics, options: { host: string; port: number }): Promise<MetricsListener> {
  const app = Fastify({ logger: false, frameworkErrors, clientErrorHandler });
  registerErrorHandling(app, { bodyLimitBytes: 1024 * 1024 });
  app.get('/metrics', async (_request, reply) => sendScrape(metrics, reply));
  const address = await app.listen({ port: options.port, host: options.host });
  return { url: address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost'), close: () => app.close() };
}
