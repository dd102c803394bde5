import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NovaClient, NovaError, NovaNetworkError } from '../../packages/client/src/index.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('TypeScript SDK retries', () => {
  let server: TestServer;

  // One request per second per key, plus one of burst: the third quick call is throttled.
  before(async () => {
    server = await startTestServer({ env: { NOVA_RATE_LIMIT_RPS: '1', NOVA_RATE_LIMIT_BURST: '1' } });
  });
  after(() => server.close());

  it('waits as long as Retry-After says on 429 and then succeeds', async () => {
    const { apiKey } = await server.createCompany('3');
    // A tiny backoff: only honouring Retry-After can make the calls take a second.
    const nova = new NovaClient({ apiKey, baseUrl: server.url, retryDelayMs: 1 });
    const started = performance.now();
    for (let i = 0; i < 3; i++) assert.equal((await nova.balance()).balance, 3);
    const elapsed = performance.now() - started;
    // The third call got 429 with Retry-After: 1 and was sent again a second later.
    assert.ok(elapsed >= 900, `three calls took only ${Math.round(elapsed)} ms: no 429 was honoured`);
    assert.ok(elapsed < 5000);
  });

  it('surfaces rate_limited with its Retry-After once the retries are used up', async () => {
    const { apiKey } = await server.createCompany('0');
    const nova = new NovaClient({ apiKey, baseUrl: server.url, maxRetries: 0 });
    await nova.balance();
    await nova.balance();
    await assert.rejects(nova.balance(), (error: unknown) => {
      assert.ok(NovaError.is(error, 'rate_limited'));
      assert.equal(error.status, 429);
      assert.ok((error.retryAfter ?? 0) >= 1);
      return true;
    });
  });

  it('retries reads after network errors but never a cancel, and says when the server is unreachable', async () => {
    const { apiKey } = await server.createCompany('1');
    let failures = 2;
    const attempts: string[] = [];
    const flaky = new NovaClient({
      apiKey,
      baseUrl: server.url,
      retryDelayMs: 5,
      fetch: async (input, init) => {
        attempts.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
        if (failures-- > 0) throw new TypeError('fetch failed: ECONNRESET');
        return fetch(input, init);
      },
    });
    assert.equal((await flaky.balance()).balance, 1);
    assert.deepEqual(attempts, ['GET /api/v1/balance', 'GET /api/v1/balance', 'GET /api/v1/balance']);

    attempts.length = 0;
    failures = 1;
    await assert.rejects(flaky.cancel(1), NovaNetworkError);
    assert.deepEqual(attempts, ['POST /api/v1/activations/1/cancel']);

    const unreachable = new NovaClient({ apiKey, baseUrl: 'http://127.0.0.1:9', retryDelayMs: 5, maxRetries: 1 });
    await assert.rejects(unreachable.balance(), /Could not reach http:\/\/127\.0\.0\.1:9/);
  });
});
