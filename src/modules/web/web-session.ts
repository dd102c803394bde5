import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config.ts';
import { createCsrfTokens } from '../../http/csrf.ts';
import { AppError } from '../../http/errors.ts';
import { createKeyRateLimiter, createWindowLimiter, type KeyRateLimiter, type RateLimitSettings } from '../../http/rate-limit.ts';
import { type AccountInfo, assertNotBlocked, type Principal } from '../accounts/accounts.service.ts';
import { loadServerSecret, sessionLifetimeMs, type WebSessionsService } from '../web-sessions/web-sessions.service.ts';
import { type EventStream, openEventStream } from './event-stream.ts';

export const sessionCookie = 'nova_session';
export const csrfCookie = 'nova_csrf';
const csrfHeader = 'x-csrf-token';

/** A signed-in website customer: the same Principal the API uses for an API key. */
export interface WebSession {
  account: AccountInfo;
  principal: Principal;
}

declare module 'fastify' {
  interface FastifyRequest {
    webSession?: WebSession | null;
  }
}

/**
 * What every website routes plugin gets from the shared layer (built once in web.routes.ts):
 * the session cookie, the public address, rate limits and live streams.
 */
export interface WebHttp {
  /** The request's signed-in customer, or null; resolved once per request. */
  sessionOf(request: FastifyRequest, reply: FastifyReply): Promise<WebSession | null>;
  /** The request's signed-in customer; 401 unauthorized without one, 403 account_blocked when staff blocked the company. */
  requireSession(request: FastifyRequest, reply: FastifyReply): Promise<WebSession>;
  /** Resolves a session cookie value outside the request's own check (a live stream re-checks it on every event). */
  resolveToken(token: string): Promise<WebSession | null>;
  /** The request's session cookie value, '' without one. */
  sessionToken(request: FastifyRequest): string;
  /** Sets the session cookie and the CSRF cookie bound to it (a new session: a new CSRF token). */
  setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string): void;
  /** Signs the browser out: clears the session cookie and gives it a fresh anonymous CSRF token. */
  clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void;
  /** The CSRF token this request's browser must send; sets the nova_csrf cookie when it holds another one. */
  csrfToken(request: FastifyRequest, reply: FastifyReply): string;
  cookieOptions(request: FastifyRequest): { path: string; sameSite: 'lax'; secure: boolean };
  /** The website's address for links in emails and payment return URLs. */
  publicUrl(request: FastifyRequest): string;
  /** A steady-rate-plus-burst limit per key, shared across instances through Redis when configured. */
  keyRateLimiter(name: string, settings: RateLimitSettings): KeyRateLimiter;
  /** At most `points` per key in `duration` seconds, shared across instances through Redis when configured. */
  windowRateLimiter(name: string, settings: { points: number; duration: number }): RateLimiterAbstract;
  /** A server-sent event stream, ended when the server closes. */
  openEventStream(request: FastifyRequest, reply: FastifyReply): EventStream;
}

/**
 * Sets up the website's HTTP layer on the /api/web scope: cookies, the CSRF check on every
 * state-changing request, and the session helpers the per-noun routes plugins use.
 */
export async function registerWebSession(
  // The scope's type provider does not matter here: this adds hooks and reads the server address only.
  app: FastifyInstance,
  options: {
    config: Config;
    webSessions: WebSessionsService;
    redisKeyPrefix: string;
    /** Paths (endings) that skip the CSRF check because a signature authenticates them (the Stripe webhook). */
    csrfExemptPaths: string[];
  },
): Promise<WebHttp> {
  const { config, webSessions, redisKeyPrefix, csrfExemptPaths } = options;
  await app.register(fastifyCookie);

  const redis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', () => {});
  const keyLimiters: KeyRateLimiter[] = [];
  const streams = new Set<EventStream>();
  app.addHook('preClose', async () => {
    for (const stream of [...streams]) stream.end();
  });
  app.addHook('onClose', async () => {
    for (const limiter of keyLimiters) await limiter.close();
    redis?.disconnect();
  });

  const sessionToken = (request: FastifyRequest) => request.cookies[sessionCookie] ?? '';

  // CSRF: a state-changing request must send the token of the nova_csrf cookie in a header, which
  // a page on another site can neither read nor set. Signed in, that token is bound to the
  // session (src/http/csrf.ts), so a planted cookie/header pair does not pass.
  const csrf = createCsrfTokens(loadServerSecret(config.secret, config.dataDir), 'web');
  app.addHook('onRequest', async (request) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(request.method)) return;
    const path = request.url.split('?')[0];
    if (csrfExemptPaths.some((exempt) => path.endsWith(exempt))) return;
    if (!csrf.accepts(sessionToken(request), request.cookies[csrfCookie] ?? '', request.headers[csrfHeader])) {
      throw new AppError('forbidden', 'Missing or wrong CSRF token; reload the page and try again');
    }
  });

  // Secure also on plain HTTP when configured: behind a TLS proxy the request we see is http.
  const cookieOptions = (request: FastifyRequest) => ({ path: '/', sameSite: 'lax' as const, secure: config.cookieSecure || request.protocol === 'https' });
  // The CSRF cookie lives as long as a session (JS reads it, so not httpOnly).
  const setCsrfCookie = (request: FastifyRequest, reply: FastifyReply, token: string) => {
    reply.setCookie(csrfCookie, token, { ...cookieOptions(request), httpOnly: false, maxAge: sessionLifetimeMs / 1000 });
  };
  const setSessionCookie = (request: FastifyRequest, reply: FastifyReply, token: string) => {
    reply.setCookie(sessionCookie, token, { ...cookieOptions(request), httpOnly: true, maxAge: sessionLifetimeMs / 1000 });
    setCsrfCookie(request, reply, csrf.expected(token, ''));
  };
  const clearSessionCookie = (request: FastifyRequest, reply: FastifyReply) => {
    reply.clearCookie(sessionCookie, { path: '/' });
    setCsrfCookie(request, reply, csrf.fresh());
  };
  const csrfToken = (request: FastifyRequest, reply: FastifyReply) => {
    const cookie = request.cookies[csrfCookie] ?? '';
    const token = csrf.expected(sessionToken(request), cookie) || csrf.fresh();
    if (token !== cookie) setCsrfCookie(request, reply, token);
    return token;
  };

  // ---- The session check: the one place that turns a session cookie into a signed-in customer ----
  // (every signed-in website route, the chat and the live stream go through here).
  async function resolveSession(token: string): Promise<{ session: WebSession; renewed: boolean } | null> {
    const resolved = token ? await webSessions.resolve(token) : null;
    if (!resolved) return null;
    return { session: { account: resolved.account, principal: resolved.principal }, renewed: resolved.renewed };
  }

  async function sessionOf(request: FastifyRequest, reply: FastifyReply): Promise<WebSession | null> {
    if (request.webSession !== undefined) return request.webSession;
    const token = sessionToken(request);
    const resolved = await resolveSession(token);
    if (resolved?.renewed) setSessionCookie(request, reply, token);
    request.webSession = resolved?.session ?? null;
    return request.webSession;
  }

  async function requireSession(request: FastifyRequest, reply: FastifyReply): Promise<WebSession> {
    const session = await sessionOf(request, reply);
    if (!session) throw new AppError('unauthorized', 'Please sign in');
    // The same refusal as the company's API keys get; the session itself stays (GET /session says why).
    assertNotBlocked(session.principal);
    return session;
  }

  return {
    sessionOf,
    requireSession,
    resolveToken: async (token) => (await resolveSession(token))?.session ?? null,
    sessionToken,
    setSessionCookie,
    clearSessionCookie,
    csrfToken,
    cookieOptions,
    // Never taken from the request's Host: a forged Host would put an attacker's site in a reset
    // email. Without NOVA_PUBLIC_URL, the address this server listens on (right for the demo).
    publicUrl: (_request) => {
      if (config.publicUrl) return config.publicUrl;
      const address = app.server.address();
      const port = address && typeof address === 'object' ? address.port : config.port;
      const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
      return `http://${host}:${port}`;
    },
    keyRateLimiter(name, settings) {
      const limiter = createKeyRateLimiter(settings, { redis, keyPrefix: `${redisKeyPrefix}:web-${name}` });
      keyLimiters.push(limiter);
      return limiter;
    },
    windowRateLimiter: (name, settings) => createWindowLimiter(settings, { redis, keyPrefix: `${redisKeyPrefix}:web-${name}` }),
    openEventStream: (request, reply) => openEventStream(request, reply, streams),
  };
}

