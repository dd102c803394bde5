import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens of the cookie-session APIs (the website's /api/web, the console's /api/console).
 *
 * Signed out, plain double submit: a random token in a cookie, echoed in the x-csrf-token header.
 * With a session cookie, the token is an HMAC of the session token under the server secret: it
 * changes with every sign-in, dies with the session, and someone who can plant cookies on our
 * domain (a sibling subdomain) cannot plant a cookie/header pair that passes, which plain double
 * submit accepts as long as the two match.
 */
export interface CsrfTokens {
  /** The token a request with this session cookie (or, without one, this CSRF cookie) must send. */
  expected(sessionToken: string, csrfCookie: string): string;
  /** A fresh random token for a visitor without a session (and at sign-out). */
  fresh(): string;
  /** True when `header` is the token `expected` names (compared in constant time). */
  accepts(sessionToken: string, csrfCookie: string, header: unknown): boolean;
}

/** `purpose` keeps the website's and the console's tokens apart under one server secret. */
export function createCsrfTokens(secret: string, purpose: 'web' | 'console'): CsrfTokens {
  const key = createHash('sha256').update(`nova-csrf:${purpose}:${secret}`).digest();
  const expected = (sessionToken: string, csrfCookie: string) =>
    sessionToken ? createHmac('sha256', key).update(sessionToken).digest('base64url') : csrfCookie;
  return {
    expected,
    fresh: () => randomBytes(24).toString('base64url'),
    accepts(sessionToken, csrfCookie, header) {
      const want = expected(sessionToken, csrfCookie);
      if (!want || typeof header !== 'string') return false;
      const a = Buffer.from(want);
      const b = Buffer.from(header);
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}
