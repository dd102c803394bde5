import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiClient, type ApiResponse, type TestServer, startTestServer } from '../support/test-server.ts';
import { testRedisUrl, uniqueName } from '../support/test-target.ts';

/**
 * The rate limit applies per API key (spec: "Rate limit applies per key"): a steady 5 requests
 * per second plus a burst allowance up to 8, so a client firing as fast as it can gets about 8
 * answers, then 429 rate_limited with Retry-After. With Redis the counters are shared, so
 * running several instances does not multiply the limit.
 */

const env = { NOVA_RATE_LIMIT_RPS: '5', NOVA_RATE_LIMIT_BURST: '8' };
// One prefix for every instance of this file, so a second instance shares the first one's limits.
const redisKeyPrefix = uniqueName('nova_rl');

let server: TestServer;

before(async () => {
  server = await startTestServer({ env, redisKeyPrefix });
});

after(async () => {
  await server?.close();
});

interface Burst {
  successes: ApiResponse[];
  rejection: ApiResponse;
  elapsedMs: number;
}

/** Sends GET /balance as fast as possible, round-robin over `clients`, until the first 429. */
async function fireUntilLimited(clients: ApiClient[], max = 40): Promise<Burst> {
  const successes: ApiResponse[] = [];
  const started = performance.now();
  for (let i = 0; i < max; i++) {
    const response = await clients[i % clients.length].get('/api/v1/balance');
    if (response.status === 429) return { successes, rejection: response, elapsedMs: performance.now() - started };
    assert.equal(response.status, 200, `request ${i + 1}: ${response.status} ${JSON.stringify(response.body)}`);
    successes.push(response);
  }
  assert.fail(`no 429 after ${max} requests in ${Math.round(performance.now() - started)} ms`);
}

/** The burst of about 8 must fit in the one-second window, or the steady rate refills it. */
function assertAboutBurst(burst: Burst) {
  assert.ok(burst.elapsedMs < 1000, `the requests took ${Math.round(burst.elapsedMs)} ms, too slow to test a per-second limit`);
  assert.ok(
    burst.successes.length >= 5 && burst.successes.length <= 10,
    `expected 429 after about 8 requests (burst), got it after ${burst.successes.length}`,
  );
}

function assertRateLimited(response: ApiResponse) {
  assert.equal(response.status, 429);
  assert.equal(response.body.ok, false);
  assert.equal(response.body.error.code, 'rate_limited');
  assert.equal(typeof response.body.error.message, 'string');
  const retryAfter = response.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^\d+$/, `Retry-After is ${retryAfter}`);
  assert.ok(Number(retryAfter) >= 1, `Retry-After is ${retryAfter}`);
  assert.equal(response.headers.get('x-ratelimit-limit'), '8');
  assert.equal(response.headers.get('x-ratelimit-remaining'), '0');
  return Number(retryAfter);
}

describe('rate limit per API key', () => {
  it('answers 429 rate_limited with Retry-After after about the burst allowance, and lets the key through again after it', async () => {
    const { apiKey } = await server.createCompany();
    const api = server.api(apiKey);
    const burst = await fireUntilLimited([api]);
    assertAboutBurst(burst);
    const retryAfter = assertRateLimited(burst.rejection);

    // Every answer that got through says how much is left, counting down.
    const remaining = burst.successes.map((response) => {
      const value = response.headers.get('x-ratelimit-remaining');
      assert.match(value ?? '', /^\d+$/, `x-ratelimit-remaining is ${value}`);
      assert.equal(response.headers.get('x-ratelimit-limit'), '8');
      return Number(value);
    });
    for (let i = 1; i < remaining.length; i++) {
      assert.ok(remaining[i] <= remaining[i - 1], `x-ratelimit-remaining went up: ${remaining.join(', ')}`);
    }

    await sleep(retryAfter * 1000 + 50);
    const again = await api.get('/api/v1/balance');
    assert.equal(again.status, 200, `after Retry-After: ${again.status} ${JSON.stringify(again.body)}`);
  });

  it('counts the burst allowance in X-RateLimit-Remaining: after N calls it says limit − N, and the call after 0 is refused', async () => {
    // 5 a second plus 3 more in a burst: 8 at once for a fresh key.
    const limit = 8;
    // The count is exact only within one second (then the steady allowance refills): on a busy
    // machine a run that took longer is repeated with a fresh key rather than judged.
    for (let run = 1; ; run++) {
      const { apiKey } = await server.createCompany();
      const api = server.api(apiKey);
      const started = performance.now();
      const answers: ApiResponse[] = [];
      for (let n = 1; n <= limit + 1; n++) answers.push(await api.get('/api/v1/balance'));
      const elapsedMs = performance.now() - started;
      if (elapsedMs >= 1000 && run < 3) continue;
      assert.ok(elapsedMs < 1000, `the calls took ${Math.round(elapsedMs)} ms three times, too slow to count within one second`);
      answers.slice(0, limit).forEach((response, index) => {
        const n = index + 1;
        assert.equal(response.status, 200, `call ${n}: ${response.status} ${JSON.stringify(response.body)}`);
        assert.equal(response.headers.get('x-ratelimit-limit'), String(limit), `call ${n}`);
        assert.equal(response.headers.get('x-ratelimit-remaining'), String(limit - n), `call ${n}`);
      });
      assertRateLimited(answers[limit]);
      break;
    }

    // The sms-activate protocol counts against the same limit and says the same.
    const other = await server.createCompany();
    const compat = await server.api().get(`/stubs/handler_api.php?api_key=${other.apiKey}&action=getBalance`);
    assert.equal(compat.status, 200);
    assert.equal(compat.headers.get('x-ratelimit-limit'), String(limit));
    assert.equal(compat.headers.get('x-ratelimit-remaining'), String(limit - 1));
  });

  it('limits each key on its own: a throttled key does not throttle another key of the same company', async () => {
    const { companyId, apiKey } = await server.createCompany();
    const member = await server.addMember(companyId);
    const burst = await fireUntilLimited([server.api(apiKey)]);
    assertAboutBurst(burst);
    assertRateLimited(burst.rejection);

    const other = await server.api(member.apiKey).get('/api/v1/balance');
    assert.equal(other.status, 200, `second key: ${other.status} ${JSON.stringify(other.body)}`);
    assert.match(other.headers.get('x-ratelimit-remaining') ?? '', /^\d+$/);
    // The first key is still throttled.
    assertRateLimited(await server.api(apiKey).get('/api/v1/balance'));
  });

  it('does not count requests with an invalid key against anyone', async () => {
    const { apiKey } = await server.createCompany();
    for (let i = 0; i < 12; i++) {
      const response = await server.api(`${apiKey}x`).get('/api/v1/balance');
      assert.equal(response.status, 401);
    }
    const burst = await fireUntilLimited([server.api(apiKey)]);
    assertAboutBurst(burst);
  });

  it(
    'shares one limit per key between instances on the same database',
    { skip: testRedisUrl ? false : 'needs Redis: run with NOVA_TEST_TARGET=postgres NOVA_TEST_REDIS_URL=redis://… (without it each instance counts on its own)' },
    async () => {
      const second = await startTestServer({ database: server.database, env, redisKeyPrefix });
      try {
        const { apiKey } = await server.createCompany();
        const burst = await fireUntilLimited([server.api(apiKey), second.api(apiKey)]);
        // Two separate limiters would let about twice the burst through.
        assertAboutBurst(burst);
        assertRateLimited(burst.rejection);
        // Both instances now refuse the key.
        assertRateLimited(await server.api(apiKey).get('/api/v1/balance'));
        assertRateLimited(await second.api(apiKey).get('/api/v1/balance'));
      } finally {
        await second.close();
      }
    },
  );
});
