import { Redis } from 'ioredis';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { AppError } from './errors.ts';

export interface RateLimitSettings {
  requestsPerSecond: number;
  /** Requests allowed above the steady rate in a short spike. */
  burst: number;
}

export interface RateLimitVerdict {
  headers: Record<string, string>;
}

export interface KeyRateLimiter {
  /** Counts one request for `subject`; throws `rate_limited` with Retry-After when over the limit. */
  consume(subject: string): Promise<RateLimitVerdict>;
  close(): Promise<void>;
}

// Burst allowance refills over this window, so a client may spike briefly but not sustain it.
const burstWindowSeconds = 10;

/**
 * A per-key limit: a steady rate per second plus a burst bucket. In-process by default; with a
 * Redis client the counters live in Redis, so every app instance shares one limit per key.
 */
export function createKeyRateLimiter(
  settings: RateLimitSettings,
  options: { redis?: Redis; keyPrefix?: string } = {},
): KeyRateLimiter {
  const prefix = options.keyPrefix ?? 'nova:ratelimit';
  const extra = Math.max(1, settings.burst - settings.requestsPerSecond);
  const make = (points: number, duration: number, name: string): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ points, duration, keyPrefix: `${prefix}:${name}` });
    if (!options.redis) return memory;
    // If Redis is unreachable, each instance keeps limiting on its own rather than failing requests.
    return new RateLimiterRedis({ storeClient: options.redis, points, duration, keyPrefix: `${prefix}:${name}`, insuranceLimiter: memory });
  };
  const limiter = new BurstyRateLimiter(
    make(settings.requestsPerSecond, 1, 'steady'),
    make(extra, burstWindowSeconds, 'burst'),
  );

  const headersOf = (result: RateLimiterRes) => ({
    'x-ratelimit-limit': String(settings.requestsPerSecond),
    'x-ratelimit-remaining': String(Math.max(0, result.remainingPoints)),
    'x-ratelimit-reset': String(Math.ceil(result.msBeforeNext / 1000)),
  });

  return {
    async consume(subject) {
      try {
        const result = await limiter.consume(subject);
        return { headers: headersOf(result) };
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new AppError('rate_limited', `Too many requests for this API key; retry in ${retryAfter} s`, {
          headers: { ...headersOf(rejection), 'x-ratelimit-remaining': '0', 'retry-after': String(retryAfter) },
        });
      }
    },
    async close() {},
  };
}
