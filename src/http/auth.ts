import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountsService, Principal } from '../modules/accounts/accounts.service.ts';
import { AppError } from './errors.ts';
import type { KeyRateLimiter } from './rate-limit.ts';

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
 */
export function apiKeyAuthentication(accounts: AccountsService, limiter: KeyRateLimiter) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const token = bearerToken(request);
    if (!token) {
      throw new AppError('unauthorized', 'Missing API key: send "Authorization: Bearer YOUR_API_KEY" (Profile → API access)');
    }
    const principal = await accounts.authenticate(token);
    if (!principal) throw new AppError('unauthorized', 'Invalid or revoked API key; find your current key under Profile → API access');
    const verdict = await limiter.consume(`key:${principal.keyId}`);
    reply.headers(verdict.headers);
    request.principal = principal;
  };
}

/** The principal of an authenticated route (the hook above guarantees it). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'Missing API key');
  return request.principal;
}
