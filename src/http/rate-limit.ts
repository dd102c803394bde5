import { Redis } from 'ioredis';
import {
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
  const steady = make(settings.requestsPerSecond, 1, 'steady');
  const burst = make(extra, burstWindowSeconds, 'burst');
  // What a fresh key may send at once: the steady second's allowance plus the burst allowance.
  const limit = settings.requestsPerSecond + extra;

  const headersOf = (remaining: number, msBeforeNext: number) => ({
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(0, Math.floor(remaining))),
    'x-ratelimit-reset': String(Math.ceil(msBeforeNext / 1000)),
  });

  return {
    // The steady bucket is spent first, then the burst bucket (as rate-limiter-flexible's
    // BurstyRateLimiter does); unlike it, Remaining counts what is left in both, so a client that
    // reads it knows exactly how many more requests go through before a 429.
    async consume(subject) {
      const [steadyOutcome, burstState] = await Promise.all([
        steady.consume(subject).then(
          (result) => ({ result }),
          (rejection: unknown) => ({ rejection }),
        ),
        // What is left of the burst, read alongside (no extra round trip to wait for) by counting
        // zero points: one script call like the consume beside it, where `get` would be a MULTI
        // three times slower. A zero count may open the burst window early; it only refills sooner.
        burst.consume(subject, 0).then(
          (result) => result.remainingPoints,
          (rejection: unknown) => (rejection instanceof RateLimiterRes ? 0 : null),
        ),
      ]);
      if ('result' in steadyOutcome) {
        const burstLeft = burstState ?? extra;
        return { headers: headersOf(steadyOutcome.result.remainingPoints + burstLeft, steadyOutcome.result.msBeforeNext) };
      }
      const steadyRejection = steadyOutcome.rejection;
      if (!(steadyRejection instanceof RateLimiterRes)) throw steadyRejection;
      try {
        const fromBurst = await burst.consume(subject);
        return { headers: headersOf(fromBurst.remainingPoints, steadyRejection.msBeforeNext) };
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        // The steady second refills first: one more request fits then.
        const retryAfter = Math.max(1, Math.ceil(Math.min(steadyRejection.msBeforeNext, rejection.msBeforeNext) / 1000));
        throw new AppError('rate_limited', `Too many requests for this API key; retry in ${retryAfter} s`, {
          headers: { ...headersOf(0, steadyRejection.msBeforeNext), 'retry-after': String(retryAfter) },
        });
      }
    },
    async close() {},
  };
}

/**
 * At most `points` per key in a window of `duration` seconds that starts with the key's first
 * count. In-process by default; with a Redis client every instance shares the counters.
 */
export function createWindowLimiter(
  settings: { points: number; duration: number },
  options: { redis?: Redis; keyPrefix: string },
): RateLimiterAbstract {
  const { points, duration } = settings;
  const memory = new RateLimiterMemory({ points, duration, keyPrefix: options.keyPrefix });
  // If Redis is unreachable, each instance keeps limiting on its own rather than failing requests.
  return options.redis ? new RateLimiterRedis({ storeClient: options.redis, points, duration, keyPrefix: options.keyPrefix, insuranceLimiter: memory }) : memory;
}

/** The 429 for a rejected count: the message (given the seconds to wait) and Retry-After. */
function windowRejection(rejection: RateLimiterRes, message: (retryAfterSeconds: number) => string): AppError {
  const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
  return new AppError('rate_limited', message(retryAfter), { headers: { 'retry-after': String(retryAfter) } });
}

/** Counts one for `key`; over the limit, throws 429 `rate_limited` with `message` and Retry-After. */
export async function consumeWindow(limiter: RateLimiterAbstract, key: string, message: (retryAfterSeconds: number) => string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw windowRejection(rejection, message);
    throw rejection;
  }
}

export interface FailureLimit {
  limiter: RateLimiterAbstract;
  key: string;
  message: (retryAfterSeconds: number) => string;
}

/**
 * Runs a credential check under limits that count its failures only (a null result). Each
 * limit is charged before the check, so parallel guesses cannot all slip past one remaining
 * point, and refunded when the check succeeds or never ran (refused by a later limit, the
 * password hash queue, bad input). Within a window over a limit, every attempt is refused
 * before any password is hashed, the right one too: otherwise a guesser would get through on
 * the guess that happens to be right.
 */
export async function limitFailures<T>(limits: FailureLimit[], check: () => Promise<T | null>): Promise<T | null> {
  const charged: FailureLimit[] = [];
  const refund = () => Promise.all(charged.map(({ limiter, key }) => limiter.reward(key, 1).catch(() => {})));
  for (const limit of limits) {
    try {
      await limit.limiter.consume(limit.key);
      charged.push(limit);
    } catch (rejection) {
      // The limiter that refused has counted this attempt too, which changes nothing: its window
      // still ends when it would have. Give back what the limits before it counted.
      await refund();
      if (rejection instanceof RateLimiterRes) throw windowRejection(rejection, limit.message);
      throw rejection;
    }
  }
  let result: T | null;
  try {
    result = await check();
  } catch (error) {
    await refund();
    throw error;
  }
  if (result !== null) await refund();
  return result;
}

/** Runs `consume`; a rate_limited rejection is rethrown with `message` (and the same Retry-After headers). */
export async function consumeOrExplain(limiter: KeyRateLimiter, subject: string, message: string): Promise<void> {
  try {
    await limiter.consume(subject);
  } catch (error) {
    if (error instanceof AppError && error.code === 'rate_limited') throw new AppError('rate_limited', message, { headers: error.headers });
    throw error;
  }
}
