import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Our Content-Security-Policy: everything a page loads comes from this server (no CDN, no
 * third-party script, font or call), nothing may frame it, and forms post only to us. Sent with
 * every answer, JSON too: a browser that is tricked into rendering an API answer as a page
 * still runs nothing.
 */
export const contentSecurityPolicyDirectives = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
};

const hstsHeader = 'max-age=31536000; includeSubDomains';

/**
 * The security headers of every answer (pages, assets, the APIs, errors, 404s, /healthz), in
 * one place, by @fastify/helmet:
 * - the CSP above, `X-Frame-Options: DENY` for browsers without frame-ancestors;
 * - `Referrer-Policy: no-referrer`: reset and invitation links carry their token in the URL,
 *   which must not leak to another site through the Referer of a link or resource on the page;
 * - `X-Content-Type-Options: nosniff`, `Cross-Origin-Opener-Policy` and
 *   `Cross-Origin-Resource-Policy: same-origin`, and the rest of helmet's defaults.
 * HSTS only on answers that came over HTTPS (directly, or per a trusted proxy's
 * X-Forwarded-Proto): sent over plain HTTP (the demo on localhost) it would be ignored at best,
 * and pin a development host to HTTPS at worst.
 * Helmet writes to the raw response, so hijacked answers (server-sent events) carry them too.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicyDirectives },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.protocol === 'https') reply.raw.setHeader('strict-transport-security', hstsHeader);
  });
}

/**
 * The same protections for the few answers no hook sees: what the router refuses before routing
 * (a bad percent-encoding) and what Node's HTTP parser refuses (written straight to the socket).
 * They are small JSON errors, so the strictest policy fits: load nothing, frame nothing.
 */
export const refusalSecurityHeaders: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};
