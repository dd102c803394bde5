import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountsService, Principal } from '../modules/accounts/accounts.service.ts';
import { AppError } from './errors.ts';
import type { ApiKeyRateLimiter } from './api-key-rate-limit.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The bearer token of a request, or '' when there is none. */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : '';
}

/**
 * onRequest hook of the customer API: resolves the API key to a principal, then counts the
 * request against that key's rate limit. Runs before the body is parsed, so an unauthenticated
 * or throttled client costs us little.
 * A callback hook: when memory answers both (a key seen lately, a point of its limit held here),
 * as it does for nearly every request of a busy client, the request costs no promise at all; only
 * a database read or a rate-limit lease takes the asynchronous way.
 */
export function apiKeyAuthentication(accounts: AccountsService, limiter: ApiKeyRateLimiter) {
  async function fromStores(request: FastifyRequest, reply: FastifyReply, token: string, known: Principal | undefined): Promise<void> {
    const principal = known ?? (await accounts.authenticate(token));
    if (!principal) throw invalidKey();
    const verdict = await limiter.consume(rateLimitSubject(principal));
    reply.headers(verdict.headers);
    request.principal = principal;
  }

  return function authenticate(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    const token = bearerToken(request);
    if (!token) {
      return done(new AppError('unauthorized', 'Missing API key: send "Authorization: Bearer YOUR_API_KEY" (Profile → API access)'));
    }
    let principal: Principal | undefined;
    try {
      principal = accounts.authenticateFromMemory(token);
      const verdict = principal && limiter.consumeHeld(rateLimitSubject(principal));
      if (verdict) {
        reply.headers(verdict.headers);
        request.principal = principal;
        return done();
      }
    } catch (error) {
      return done(error as Error);
    }
    fromStores(request, reply, token, principal).then(() => done(), done);
  };
}

const invalidKey = () => new AppError('unauthorized', 'Invalid or revoked API key; find your current key under Profile → API access');

/** The rate limit counts per key (a rotated key starts afresh). */
const rateLimitSubject = (principal: Principal) => `key:${principal.keyId}`;

/** The principal of an authenticated route (the hook above guarantees it). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'Missing API key');
  return request.principal;
}
