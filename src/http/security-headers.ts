import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

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
 * one place. Documents (pages and assets) get them as helmet computes them:
 * - the CSP above, `X-Frame-Options: DENY` for browsers without frame-ancestors;
 * - `Referrer-Policy: no-referrer`: reset and invitation links carry their token in the URL,
 *   which must not leak to another site through the Referer of a link or resource on the page;
 * - `X-Content-Type-Options: nosniff`, `Cross-Origin-Opener-Policy` and
 *   `Cross-Origin-Resource-Policy: same-origin`, and the rest of helmet's defaults.
 * Answers of the APIs (`/api/…`, the sms-activate `/stubs/…`, `/healthz`), which are never a
 * document, get `apiSecurityHeaders`: the five that protect a non-document, with a CSP that loads
 * nothing. helmet's other six (COOP, Origin-Agent-Cluster, DNS prefetch, IE8 downloads, Flash
 * policies, the XSS auditor) act only on documents, and setting them cost a cached poll about 5%
 * of its CPU (each header is validated, lower-cased and stored on every answer).
 * HSTS only on answers that came over HTTPS (directly, or per a trusted proxy's
 * X-Forwarded-Proto): sent over plain HTTP (the demo on localhost) it would be ignored at best,
 * and pin a development host to HTTPS at worst.
 * Set on the reply, not on the raw response: Node then takes the reply's headers as one object
 * and checks each once, where a single raw setHeader sends every header of the answer through
 * setHeader's own validation and bookkeeping first (measured on a cached poll: 12% of its CPU).
 * Hijacked answers (server-sent events) copy the reply's headers into their own (event-stream.ts).
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  const documentHeaders = Object.entries(helmetHeaders());
  const apiHeaders = Object.entries(apiSecurityHeaders);
  // A callback hook: an async one would cost every request a promise.
  app.addHook('onRequest', (request, reply, done) => {
    const url = request.url;
    const headers = url.startsWith('/api/') || url.startsWith('/stubs/') || url === '/healthz' ? apiHeaders : documentHeaders;
    for (const [name, value] of headers) reply.header(name, value);
    if (request.protocol === 'https') reply.header('strict-transport-security', hstsHeader);
    done();
  });
}

/**
 * Helmet's headers for our options, computed once: they are the same for every answer, and
 * helmet's middleware would rebuild the policy strings on each request (a tenth of the CPU of a
 * cached read such as GET /prices).
 */
export function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let finished = false;
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicyDirectives },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  })({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  // Helmet with static options answers synchronously; anything else would be a changed library.
  if (!finished) throw new Error('helmet did not compute its headers synchronously');
  return headers;
}

/**
 * The headers of answers that are never a document: the API answers, and the few answers no hook
 * sees (what the router refuses before routing, a bad percent-encoding, and what Node's HTTP
 * parser refuses, written straight to the socket). The strictest policy fits: load nothing,
 * frame nothing, sniff nothing, leak no referrer, be read by this origin only.
 */
export const apiSecurityHeaders: Record<string, string> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};
