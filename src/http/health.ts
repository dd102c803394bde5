import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { type Database, pingDatabase } from '../db/database.ts';
import { ok } from './envelope.ts';
import { AppError } from './errors.ts';

// A probe answers within a load balancer's usual timeout even when a dependency hangs.
const checkTimeoutMs = 2_000;

/**
 * Probes for load balancers and orchestrators, open (no key) and outside /api:
 * - `/healthz`: the process is alive and serving (a restart is the cure when it fails);
 * - `/readyz`: this instance can do its work: the database answers and, when REDIS_URL is set,
 *   Redis does too. 503 otherwise, naming the part that is down, so traffic goes elsewhere
 *   until it is back.
 */
export async function healthRoutes(app: FastifyInstance, options: { database: Database; redis?: Redis }) {
  const { database, redis } = options;

  app.get('/healthz', { logLevel: 'warn', schema: { hide: true } }, async () => ok({ status: 'up' }));

  app.get('/readyz', { logLevel: 'warn', schema: { hide: true } }, async () => {
    const [databaseUp, redisUp] = await Promise.all([pingDatabase(database, checkTimeoutMs), redis ? pingRedis(redis) : null]);
    const down = [...(databaseUp ? [] : ['the database']), ...(redisUp === false ? ['Redis'] : [])];
    if (down.length > 0) {
      throw new AppError('unavailable', `Not ready: ${down.join(' and ')} ${down.length > 1 ? 'are' : 'is'} not reachable`, {
        headers: { 'retry-after': '5' },
      });
    }
    return ok({ status: 'ready', database: 'up', redis: redis ? 'up' : 'not configured' });
  });
}

async function pingRedis(redis: Redis): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<null>((resolve) => (timer = setTimeout(resolve, checkTimeoutMs, null)));
  let onReady: (() => void) | undefined;
  try {
    // Just started (or reconnected and handshaking): give the connection the probe's time. A
    // client that lost Redis is 'reconnecting' and fails at once below.
    if (['wait', 'connecting', 'connect'].includes(redis.status)) {
      await Promise.race([new Promise<void>((resolve) => redis.once('ready', (onReady = resolve))), deadline]);
    }
    // The client keeps no offline queue: while disconnected, PING fails at once.
    const answer = await Promise.race([redis.ping(), deadline]);
    return answer === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
  }
}

/**
 * One warning when Redis becomes unreachable and one line when it is back, instead of ioredis
 * printing every failed reconnect (every ≤ 2 s) to stderr. While it is away, rate limits count
 * per instance and events reach this instance's waiters only; /readyz answers 503 naming Redis.
 */
export function reportRedisOutages(redis: Redis, log: FastifyBaseLogger): void {
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ reason: error.message }, 'Redis is not reachable: rate limits and events fall back to this instance until it is back');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info('Redis is reachable again: rate limits and events are shared across instances again');
  });
}
