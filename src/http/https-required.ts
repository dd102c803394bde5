import type { FastifyInstance } from 'fastify';
import { AppError } from './errors.ts';

/** Where API calls enter; the website's pages and /healthz are not among them. */
const apiPrefixes = ['/api/v1', '/api/web', '/api/console', '/stubs'];

/**
 * "All requests must use HTTPS": behind a trusted TLS proxy (NOVA_TRUST_PROXY), an API call the
 * proxy reports as plain HTTP (X-Forwarded-Proto: http) is refused before anything is read or
 * done, so a key or cookie sent in clear text at least never works. Without a trusted proxy the
 * header is anyone's to set and is ignored; a request without it (a direct call on the private
 * network) is served. /healthz stays open for load-balancer probes.
 */
export function registerHttpsRequired(app: FastifyInstance, options: { trustProxy: boolean }): void {
  if (!options.trustProxy) return;
  app.addHook('onRequest', async (request) => {
    if (request.headers['x-forwarded-proto'] === undefined || request.protocol === 'https') return;
    const path = request.url.split('?')[0];
    if (!apiPrefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return;
    throw new AppError('https_required', 'This API is served over HTTPS only: call it with an https:// URL');
  });
}
