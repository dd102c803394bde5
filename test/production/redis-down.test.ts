import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { type RedisServer, redisServerUnavailable, startRedisServer } from '../support/redis-server.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { createScratchDatabase, testTarget, uniqueName } from '../support/test-target.ts';

// Redis is shared state for several instances, which need PostgreSQL: the PostgreSQL pass runs it.
const skip = testTarget !== 'postgres' ? 'several instances sharing Redis run on PostgreSQL (NOVA_TEST_TARGET=postgres)' : redisServerUnavailable();

/**
 * Redis dies under two running instances and comes back (issue 9, proof 3). Redis carries the
 * shared rate-limit counters and the events between instances; without it each instance limits
 * on its own and delivers its own events, and once it is back they share again, with no restart.
 * The Redis is a private one, killed and restarted on one port.
 */
describe('Redis going down and coming back', { skip: skip ?? false }, () => {
  let redisServer: RedisServer;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let database: Database;
  let a: TestServer;
  let b: TestServer;
  const redisKeyPrefix = uniqueName('nova_redis_down');
  // ioredis prints each failed reconnect of a client without an error listener to stderr.
  const unhandledRedisErrors: string[] = [];
  const consoleError = console.error;

  before(async () => {
    console.error = (...args: unknown[]) => {
      if (String(args[0]).includes('[ioredis]')) unhandledRedisErrors.push(args.map(String).join(' '));
      else consoleError(...args);
    };
    redisServer = await startRedisServer();
    scratch = await createScratchDatabase();
    database = await openDatabase({ databaseUrl: scratch.url, dataDir: 'memory://' });
    // Two instances on one database and one Redis key prefix, as two processes would run.
    // A tight per-key limit, so a burst on one key is refused in part.
    const env = { REDIS_URL: redisServer.url, NOVA_RATE_LIMIT_RPS: '5', NOVA_RATE_LIMIT_BURST: '10' };
    a = await startTestServer({ database, redisKeyPrefix, env });
    b = await startTestServer({ database, redisKeyPrefix, env });
    await a.services.catalog.upsertService({ code: 'tg', name: 'Telegram' });
    await a.services.catalog.upsertCountry({ id: 6, name: 'United States', iso: 'US', dialPrefix: '1' });
    await a.services.catalog.setPrice({ serviceCode: 'tg', countryId: 6, price: 5000 });
  });

  after(async () => {
    console.error = consoleError;
    await a?.close();
    await b?.close();
    await database?.close();
    await scratch?.drop();
    await redisServer?.kill();
  });

  /**
   * Buys a number on `buyer`, long-polls it there, pushes its SMS to `receiver`; returns how long
   * after the push the long-poll answered, and its answer.
   */
  async function smsWakesLongPoll(buyer: TestServer, receiver: TestServer) {
    const { apiKey } = await buyer.createCompany('5');
    const { secret, numbers } = await buyer.createProvider({ countryId: 6, count: 1 });
    const bought = await buyer.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const id = bought.body.data.activation.id as number;
    let answeredAt = 0;
    const waiting = buyer
      .api(apiKey)
      .get(`/api/v1/activations/${id}?wait=10`)
      .then((response) => {
        answeredAt = performance.now();
        return response;
      });
    // Long enough for the wait to have read the activation and be listening.
    await sleep(1200);
    assert.equal(answeredAt, 0, 'the long-poll answered before the SMS came');
    const pushed = await receiver.api(secret).post('/api/v1/supply/sms', { to: numbers[0], from: 'Telegram', text: 'Telegram code: 24680' });
    assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
    const pushedAt = performance.now();
    const answer = await waiting;
    return { latencyMs: answeredAt - pushedAt, answer, apiKey, id };
  }

  async function readyz(server: TestServer) {
    return server.api().get('/readyz');
  }

  it('keeps serving with limits and events of its own while Redis is down, and shares them again once it is back', async () => {
    // Shared mode: an SMS pushed to B wakes a long-poll on A.
    const before = await smsWakesLongPoll(a, b);
    assert.equal(before.answer.body.data.activation.code, '24680');
    assert.ok(before.latencyMs < 1000, `woken ${Math.round(before.latencyMs)} ms after the SMS`);

    await redisServer.kill();
    const killedAt = performance.now();

    // Readiness says so at once; liveness does not (a restart would not bring Redis back).
    const notReady = await readyz(a);
    assert.equal(notReady.status, 503, JSON.stringify(notReady.body));
    assert.equal(notReady.body.error.code, 'unavailable');
    assert.match(notReady.body.error.message, /Redis/);
    assert.doesNotMatch(notReady.body.error.message, /database/);
    assert.equal((await a.api().get('/healthz')).status, 200);

    // The API answers as usual, promptly.
    const { apiKey: burstKey } = await a.createCompany('1');
    const started = performance.now();
    const balance = await a.api(burstKey).get('/api/v1/balance');
    assert.equal(balance.status, 200, JSON.stringify(balance.body));
    assert.ok(performance.now() - started < 500, `balance answered in ${Math.round(performance.now() - started)} ms`);

    // Rate limits fall back to each instance's own counters: a burst on one key is still cut.
    const burst = await Promise.all(Array.from({ length: 30 }, () => a.api(burstKey).get('/api/v1/balance')));
    const statuses = burst.map((response) => response.status);
    assert.deepEqual([...new Set(statuses)].sort(), [200, 429], `statuses: ${statuses.join(',')}`);
    // 5 a second plus a burst of 5 more: about 10, more if the burst spans a second boundary.
    assert.ok(statuses.filter((s) => s === 200).length <= 20, `${statuses.filter((s) => s === 200).length} of 30 let through`);

    // Events fall back to this instance: an SMS pushed here wakes a long-poll here, at once.
    const whileDown = await smsWakesLongPoll(a, a);
    assert.equal(whileDown.answer.status, 200, JSON.stringify(whileDown.answer.body));
    assert.equal(whileDown.answer.body.data.activation.code, '24680');
    assert.ok(whileDown.latencyMs < 1000, `woken ${Math.round(whileDown.latencyMs)} ms after the SMS with Redis down`);
    // A long-poll with nothing to wait for answers at once, without waiting on a Redis that is not there.
    const settledStarted = performance.now();
    const settled = await a.api(whileDown.apiKey).get(`/api/v1/activations/${whileDown.id}?wait=10`);
    const settledMs = performance.now() - settledStarted;
    assert.equal(settled.status, 200);
    assert.ok(settledMs < 500, `a settled long-poll took ${Math.round(settledMs)} ms with Redis down`);
    const downFor = performance.now() - killedAt;
    assert.deepEqual(unhandledRedisErrors, [], 'every Redis client handles its connection errors');

    await redisServer.start();
    const restartedAt = performance.now();
    let recoveredMs = -1;
    while (performance.now() - restartedAt < 10_000) {
      if ((await readyz(a)).status === 200 && (await readyz(b)).status === 200) {
        recoveredMs = performance.now() - restartedAt;
        break;
      }
      await sleep(50);
    }
    assert.ok(recoveredMs >= 0, 'both instances ready within 10 s of Redis coming back');

    // Shared again, without a restart: events cross instances, limits count in Redis.
    const afterRestart = await smsWakesLongPoll(a, b);
    assert.equal(afterRestart.answer.body.data.activation.code, '24680');
    assert.ok(afterRestart.latencyMs < 1000, `woken ${Math.round(afterRestart.latencyMs)} ms after the SMS, across instances`);
    const inspect = new Redis(redisServer.url);
    try {
      assert.equal((await a.api(burstKey).get('/api/v1/balance')).status, 200);
      const counters = await inspect.keys(`${redisKeyPrefix}:ratelimit*`);
      assert.ok(counters.length > 0, 'the rate-limit counters live in Redis again');
    } finally {
      inspect.disconnect();
    }
    console.log(
      `redis down: ${Math.round(downFor)} ms down; long-poll woken ${Math.round(whileDown.latencyMs)} ms after a local SMS; ` +
        `ready again ${Math.round(recoveredMs)} ms after Redis restarted`,
    );
  });
});
