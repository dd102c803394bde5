import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from './errors.ts';
import type { KeyRateLimiter, RateLimitSettings, RateLimitVerdict } from './rate-limit.ts';

/**
 * The per-key limit of the customer API (README → Rate limits), shared by every instance through
 * Redis without a Redis round trip per request.
 *
 * The limit is the one `createKeyRateLimiter` enforces: a steady window of `requestsPerSecond`
 * points per second, spent first, and a burst window of `burst − requestsPerSecond` more points
 * per 10 s; each window opens with the first point taken from it. Redis holds the windows; an
 * instance does not ask it for one point per request but takes a lease of several (at least what
 * its waiting requests need, at most an eighth of what the key has left) and spends them in
 * memory until they run out or their window ends.
 * - No overshoot: every point spent was counted in Redis first, and a lease dies locally no later
 *   than its window does in Redis (its end is measured from when the lease was asked for).
 * - The price is an undershoot: points leased by one instance and not yet spent are not available
 *   to the others, so the key may be refused on one instance while another still holds up to an
 *   eighth of what was left when it leased; they are spent as requests reach it, or lapse with
 *   their window.
 * - A refusal is remembered until a window refills (nothing is ever given back), so a client
 *   hammering a 429 costs no round trip either.
 * - Without Redis (not configured, or unreachable) the same windows are kept in this process: each
 *   instance limits on its own, as rate-limiter-flexible's insurance limiter did before.
 */
export function createApiKeyRateLimiter(
  settings: RateLimitSettings,
  options: { redis?: Redis; keyPrefix?: string; now?: () => number } = {},
): ApiKeyRateLimiter {
  const now = options.now ?? Date.now;
  const windows: Windows = {
    steadyPoints: settings.requestsPerSecond,
    steadyMs: 1_000,
    burstPoints: Math.max(1, settings.burst - settings.requestsPerSecond),
    burstMs: burstWindowMs,
  };
  // What a fresh key may send at once: the steady second's allowance plus the burst allowance.
  const limit = windows.steadyPoints + windows.burstPoints;
  const memory = memoryLeaseStore(windows, now);
  const redisStore = options.redis ? redisLeaseStore(options.redis, options.keyPrefix ?? 'nova:ratelimit', windows) : undefined;
  const stats: ApiKeyRateLimiterStats = { requests: 0, redisLeases: 0, memoryLeases: 0 };
  const held = new Map<string, Held>();
  let pruneAt = pruneFloor;

  /** A lease from Redis; from memory while Redis is unreachable (each instance then limits alone). */
  async function leaseFromStore(subject: string, want: number): Promise<Grant> {
    if (redisStore && options.redis!.status === 'ready') {
      try {
        const grant = await redisStore.lease(subject, want);
        stats.redisLeases++;
        return grant;
      } catch {
        // Redis failed mid-call: fall through to this instance's own windows.
      }
    }
    stats.memoryLeases++;
    return memory.lease(subject, want);
  }

  function heldOf(subject: string): Held {
    let state = held.get(subject);
    if (!state) {
      state = { steady: 0, steadyEnd: 0, burst: 0, burstEnd: 0, steadyLeft: 0, burstLeft: 0, refusedUntil: 0, waiting: 0 };
      held.set(subject, state);
      if (held.size >= pruneAt) {
        // Forgetting a subject whose windows have all ended loses nothing.
        const at = now();
        for (const [key, old] of held) if (old !== state && !old.leasing && old.steadyEnd <= at && old.burstEnd <= at && old.refusedUntil <= at) held.delete(key);
        pruneAt = Math.max(pruneFloor, held.size * 2);
      }
    }
    return state;
  }

  /** One point from what this instance holds for the subject; false when it must ask the store. */
  function spend(state: Held, at: number): boolean {
    if (at >= state.steadyEnd) return false;
    if (state.steady > 0) {
      state.steady--;
      return true;
    }
    // Burst points only once the key's steady second is spent everywhere (as far as we know):
    // steady first, as one shared counter would do it.
    if (state.steadyLeft === 0 && state.burst > 0 && at < state.burstEnd) {
      state.burst--;
      return true;
    }
    return false;
  }

  function lease(subject: string, state: Held): Promise<void> {
    state.leasing ??= (async () => {
      const askedAt = now();
      const grant = await leaseFromStore(subject, Math.max(1, state.waiting));
      // Ends measured from when we asked: a lease never outlives its window in the store.
      const steadyEnd = askedAt + grant.steadyMs;
      const burstEnd = askedAt + grant.burstMs;
      // Points still held from before keep their own window's end: should the store have opened
      // a new window meanwhile, the older end (the earlier) bounds both, never the later one.
      const steadyKept = askedAt < state.steadyEnd ? state.steady : 0;
      state.steady = steadyKept + grant.steady;
      state.steadyEnd = steadyKept > 0 ? Math.min(state.steadyEnd, steadyEnd) : steadyEnd;
      const burstKept = askedAt < state.burstEnd ? state.burst : 0;
      state.burst = burstKept + grant.burst;
      state.burstEnd = burstKept > 0 ? Math.min(state.burstEnd, burstEnd) : burstEnd;
      state.steadyLeft = grant.steadyLeft;
      state.burstLeft = grant.burstLeft;
      if (grant.steady + grant.burst === 0) state.refusedUntil = Math.min(steadyEnd, burstEnd);
    })().finally(() => {
      state.leasing = undefined;
    });
    return state.leasing;
  }

  const headersOf = (remaining: number, msBeforeReset: number) => ({
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(0, remaining)),
    'x-ratelimit-reset': String(Math.max(0, Math.ceil(msBeforeReset / 1000))),
  });

  /** The verdict of a point just spent: what is left for the key and when its steady window ends. */
  function spentVerdict(state: Held, at: number): RateLimitVerdict {
    // What is left for the key: ours, plus what the store had left when we last asked (exact
    // with one instance; with several, others may have taken some of it since).
    const burstHere = at < state.burstEnd ? state.burst + state.burstLeft : windows.burstPoints;
    return { headers: headersOf(state.steady + state.steadyLeft + burstHere, state.steadyEnd - at) };
  }

  return {
    consumeHeld(subject) {
      const state = held.get(subject);
      if (!state) return undefined;
      const at = now();
      if (!spend(state, at)) return undefined;
      stats.requests++;
      return spentVerdict(state, at);
    },
    async consume(subject): Promise<RateLimitVerdict> {
      stats.requests++;
      const state = heldOf(subject);
      for (;;) {
        const at = now();
        if (spend(state, at)) return spentVerdict(state, at);
        if (at < state.refusedUntil) {
          // The steady second refills first: one more request fits then.
          const retryAfter = Math.max(1, Math.ceil((state.refusedUntil - at) / 1000));
          throw new AppError('rate_limited', `Too many requests for this API key; retry in ${retryAfter} s`, {
            headers: { ...headersOf(0, state.steadyEnd - at), 'retry-after': String(retryAfter) },
          });
        }
        state.waiting++;
        try {
          await lease(subject, state);
        } finally {
          state.waiting--;
        }
      }
    },
    stats: () => ({ ...stats }),
    async close() {},
  };
}

export interface ApiKeyRateLimiter extends KeyRateLimiter {
  /**
   * Spends one of the points this instance already holds for `subject`, without a promise: the
   * verdict, or undefined when none is held (call `consume`, which leases or refuses).
   */
  consumeHeld(subject: string): RateLimitVerdict | undefined;
  stats(): ApiKeyRateLimiterStats;
}

export interface ApiKeyRateLimiterStats {
  /** Requests counted. */
  requests: number;
  /** Leases taken from Redis: the round trips the limit cost. */
  redisLeases: number;
  /** Leases taken from this process's own windows (no Redis, or Redis unreachable). */
  memoryLeases: number;
}

// Burst allowance refills over this window, so a client may spike briefly but not sustain it.
const burstWindowMs = 10_000;
// A lease takes at most this share of what the key has left (unless waiting requests need more):
// smaller means more round trips, larger means more points stuck on one instance.
const leaseDivisor = 8;
// Subjects held in memory before the first sweep of the ones whose windows have all ended.
const pruneFloor = 10_000;

interface Windows {
  steadyPoints: number;
  steadyMs: number;
  burstPoints: number;
  burstMs: number;
}

/** What a store grants: points from each window, what it has left after, and how long each window lasts. */
interface Grant {
  steady: number;
  burst: number;
  steadyLeft: number;
  burstLeft: number;
  /** Until the window ends; a window not open yet counts its full length. */
  steadyMs: number;
  burstMs: number;
}

/** What one instance holds for one subject. */
interface Held {
  /** Leased points not spent yet, and when the window they were taken from ends (local clock). */
  steady: number;
  steadyEnd: number;
  burst: number;
  burstEnd: number;
  /** What the store had left at the last lease. */
  steadyLeft: number;
  burstLeft: number;
  /** The store had nothing left: refuse without asking until a window refills. */
  refusedUntil: number;
  leasing?: Promise<void>;
  /** Requests waiting for the lease in flight: the next lease asks for at least that many. */
  waiting: number;
}

interface LeaseStore {
  lease(subject: string, want: number): Promise<Grant>;
}

/**
 * Takes up to max(want, left / divisor) points of what is left, steady window first, opening a
 * window (with its expiry) when it takes its first point; one atomic step, so concurrent leases
 * of several instances never hand out the same point twice.
 */
const leaseScript = `
local steadyPoints, steadyMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local burstPoints, burstMs = tonumber(ARGV[3]), tonumber(ARGV[4])
local want, divisor = tonumber(ARGV[5]), tonumber(ARGV[6])
local function window(key, ms)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then return 0, ms, false end
  return tonumber(redis.call('GET', key) or '0'), ttl, true
end
local function take(key, open, n, ms)
  if n == 0 then return end
  if open then redis.call('INCRBY', key, n) else redis.call('SET', key, n, 'PX', ms) end
end
local steadyUsed, steadyTtl, steadyOpen = window(KEYS[1], steadyMs)
local burstUsed, burstTtl, burstOpen = window(KEYS[2], burstMs)
local steadyAvail = math.max(0, steadyPoints - steadyUsed)
local burstAvail = math.max(0, burstPoints - burstUsed)
local avail = steadyAvail + burstAvail
local grant = math.min(avail, math.max(want, math.floor(avail / divisor)))
local fromSteady = math.min(grant, steadyAvail)
local fromBurst = grant - fromSteady
take(KEYS[1], steadyOpen, fromSteady, steadyMs)
take(KEYS[2], burstOpen, fromBurst, burstMs)
return { fromSteady, fromBurst, steadyAvail - fromSteady, burstAvail - fromBurst, steadyTtl, burstTtl }
`;
const leaseScriptSha = createHash('sha1').update(leaseScript).digest('hex');

function redisLeaseStore(redis: Redis, prefix: string, windows: Windows): LeaseStore {
  const args = (want: number) => [windows.steadyPoints, windows.steadyMs, windows.burstPoints, windows.burstMs, want, leaseDivisor];
  return {
    async lease(subject, want) {
      // One hash tag per subject: both windows in one slot, should the Redis be a cluster.
      const keys = [`${prefix}:{${subject}}:steady`, `${prefix}:{${subject}}:burst`];
      let reply: unknown;
      try {
        reply = await redis.evalsha(leaseScriptSha, 2, ...keys, ...args(want));
      } catch (error) {
        // First use on this Redis (or it restarted): load the script by sending it whole.
        if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
        reply = await redis.eval(leaseScript, 2, ...keys, ...args(want));
      }
      const [steady, burst, steadyLeft, burstLeft, steadyMs, burstMs] = (reply as number[]).map(Number);
      return { steady, burst, steadyLeft, burstLeft, steadyMs, burstMs };
    },
  };
}

/**
 * The same windows and the same leases in this process (no Redis, or Redis unreachable): nothing
 * is shared, so a lease only saves the bookkeeping of a store call per request.
 */
function memoryLeaseStore(windows: Windows, now: () => number): LeaseStore {
  const counters = new Map<string, { steadyUsed: number; steadyEnd: number; burstUsed: number; burstEnd: number }>();
  let pruneAt = pruneFloor;
  return {
    async lease(subject, want) {
      const at = now();
      let counter = counters.get(subject);
      if (!counter) {
        counter = { steadyUsed: 0, steadyEnd: 0, burstUsed: 0, burstEnd: 0 };
        counters.set(subject, counter);
        if (counters.size >= pruneAt) {
          for (const [key, old] of counters) if (old.steadyEnd <= at && old.burstEnd <= at) counters.delete(key);
          pruneAt = Math.max(pruneFloor, counters.size * 2);
        }
      }
      const steadyOpen = at < counter.steadyEnd;
      const burstOpen = at < counter.burstEnd;
      const steadyAvail = steadyOpen ? Math.max(0, windows.steadyPoints - counter.steadyUsed) : windows.steadyPoints;
      const burstAvail = burstOpen ? Math.max(0, windows.burstPoints - counter.burstUsed) : windows.burstPoints;
      const avail = steadyAvail + burstAvail;
      const grant = Math.min(avail, Math.max(want, Math.floor(avail / leaseDivisor)));
      const fromSteady = Math.min(grant, steadyAvail);
      const fromBurst = grant - fromSteady;
      if (fromSteady > 0) {
        if (!steadyOpen) Object.assign(counter, { steadyUsed: 0, steadyEnd: at + windows.steadyMs });
        counter.steadyUsed += fromSteady;
      }
      if (fromBurst > 0) {
        if (!burstOpen) Object.assign(counter, { burstUsed: 0, burstEnd: at + windows.burstMs });
        counter.burstUsed += fromBurst;
      }
      return {
        steady: fromSteady,
        burst: fromBurst,
        steadyLeft: steadyAvail - fromSteady,
        burstLeft: burstAvail - fromBurst,
        steadyMs: at < counter.steadyEnd ? counter.steadyEnd - at : windows.steadyMs,
        burstMs: at < counter.burstEnd ? counter.burstEnd - at : windows.burstMs,
      };
    },
  };
}
