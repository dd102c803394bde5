import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { until, watchLongPolls } from '../../support/subscriptions.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { testRedisUrl, uniqueName } from '../../support/test-target.ts';

async function buyOne(server: TestServer) {
  const { apiKey } = await server.createCompany('10');
  const { secret, numbers } = await server.createProvider({ countryId: 6, count: 1 });
  const bought = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
  assert.equal(bought.status, 201);
  return { apiKey, secret, number: numbers[0], id: bought.body.data.activation.id as number };
}

describe('Long-poll GET /api/v1/activations/{id}?wait=N', () => {
  let server: TestServer;
  let openSubscriptions: () => number;

  before(async () => {
    server = await startTestServer();
    openSubscriptions = watchLongPolls(server);
  });
  after(() => server.close());

  it('answers within 100 ms of the SMS arriving, with its code', async () => {
    const { apiKey, secret, number, id } = await buyOne(server);
    // Warm the route up (first-use compilation), so the timing below measures the wait itself.
    await server.api(apiKey).get(`/api/v1/activations/${id}`);
    const started = performance.now();
    let resolvedAt = 0;
    const polling = server.api(apiKey).get(`/api/v1/activations/${id}?wait=20`).then((response) => {
      resolvedAt = performance.now();
      return response;
    });
    await until(() => openSubscriptions() > 0, 'the long-poll to subscribe');
    await sleep(150);
    assert.equal(resolvedAt, 0, 'the long-poll answered before anything changed');

    const sms = await server.api(secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 12345' });
    const ingested = performance.now();
    assert.equal(sms.status, 200);
    const response = await polling;
    assert.equal(response.status, 200);
    assert.equal(response.body.data.activation.status, 'sms_received');
    assert.equal(response.body.data.activation.code, '12345');
    assert.equal(response.body.data.activation.messages.length, 1);
    assert.ok(resolvedAt - ingested < 100, `answered ${Math.round(resolvedAt - ingested)} ms after the SMS was ingested`);
    assert.ok(resolvedAt - started >= 150, 'the long-poll did wait for the SMS');
  });

  it('answers after the wait with the status unchanged when nothing happens', async () => {
    const { apiKey, id } = await buyOne(server);
    const started = performance.now();
    const response = await server.api(apiKey).get(`/api/v1/activations/${id}?wait=1`);
    const elapsed = performance.now() - started;
    assert.equal(response.status, 200);
    assert.equal(response.body.data.activation.status, 'waiting');
    assert.equal(response.body.data.activation.code, null);
    assert.ok(elapsed >= 990 && elapsed < 2500, `took ${Math.round(elapsed)} ms for wait=1`);
  });

  it('answers at once when the code is already there, and without wait as a plain read', async () => {
    const { apiKey, secret, number, id } = await buyOne(server);
    await server.api(secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 55555' });
    const started = performance.now();
    const response = await server.api(apiKey).get(`/api/v1/activations/${id}?wait=30`);
    assert.ok(performance.now() - started < 1000);
    assert.equal(response.body.data.activation.code, '55555');
    const plain = await server.api(apiKey).get(`/api/v1/activations/${id}?wait=0`);
    assert.equal(plain.body.data.activation.code, '55555');
  });

  it('keeps waiting after an SMS without a code, until the one with the code', async () => {
    const { apiKey, secret, number, id } = await buyOne(server);
    await server.api(secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Welcome to Telegram!' });
    let resolvedAt = 0;
    const polling = server.api(apiKey).get(`/api/v1/activations/${id}?wait=20`).then((response) => {
      resolvedAt = performance.now();
      return response;
    });
    await until(() => openSubscriptions() > 0, 'the long-poll to subscribe');
    await sleep(100);
    assert.equal(resolvedAt, 0, 'answered although the activation has no code yet');
    await server.api(secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 90210' });
    const response = await polling;
    assert.equal(response.body.data.activation.code, '90210');
    assert.equal(response.body.data.activation.messages.length, 2);
  });

  it('ends the wait when the activation is cancelled', async () => {
    const { apiKey, id } = await buyOne(server);
    server.clock.advance(181);
    const polling = server.api(apiKey).get(`/api/v1/activations/${id}?wait=20`);
    await until(() => openSubscriptions() > 0, 'the long-poll to subscribe');
    const started = performance.now();
    const cancelled = await server.api(apiKey).post(`/api/v1/activations/${id}/cancel`);
    assert.equal(cancelled.status, 200);
    const response = await polling;
    assert.equal(response.body.data.activation.status, 'cancelled');
    assert.ok(performance.now() - started < 1000);
  });

  it('refuses a wait outside 0–60 seconds and someone else’s activation with the usual errors', async () => {
    const { apiKey, id } = await buyOne(server);
    for (const wait of ['61', '-1', 'soon', '1.5']) {
      const response = await server.api(apiKey).get(`/api/v1/activations/${id}?wait=${wait}`);
      assert.equal(response.status, 400, `wait=${wait}`);
      assert.equal(response.body.error.code, 'invalid_request');
      assert.match(response.body.error.message, /wait/);
    }
    const stranger = await server.createCompany('1');
    const started = performance.now();
    const foreign = await server.api(stranger.apiKey).get(`/api/v1/activations/${id}?wait=10`);
    assert.equal(foreign.status, 404);
    assert.ok(performance.now() - started < 1000, 'a 404 does not wait');
    await until(() => openSubscriptions() === 0, 'the 404 to drop its subscription');
  });

  it('drops the subscription when the client goes away mid-wait', async () => {
    const { apiKey, id } = await buyOne(server);
    const before = openSubscriptions();
    const controller = new AbortController();
    const polling = fetch(`${server.url}/api/v1/activations/${id}?wait=30`, {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: controller.signal,
    }).catch((error: Error) => error);
    await until(() => openSubscriptions() === before + 1, 'the long-poll to subscribe');
    controller.abort();
    assert.equal((await polling as Error).name, 'AbortError');
    await until(() => openSubscriptions() === before, 'the subscription to be dropped', 2000);
  });

  it('holds no database connection while waiting: many waiting clients do not block other requests', async () => {
    const { apiKey, id } = await buyOne(server);
    const controller = new AbortController();
    setMaxListeners(20, controller.signal);
    const waiting = Array.from({ length: 15 }, () =>
      fetch(`${server.url}/api/v1/activations/${id}?wait=30`, { headers: { authorization: `Bearer ${apiKey}` }, signal: controller.signal }).catch(() => null),
    );
    await until(() => openSubscriptions() >= 15, 'fifteen long-polls to wait');
    const started = performance.now();
    const balance = await server.api(apiKey).get('/api/v1/balance');
    assert.equal(balance.status, 200);
    assert.ok(performance.now() - started < 1000, 'a plain request was held up by waiting long-polls');
    controller.abort();
    await Promise.all(waiting);
    await until(() => openSubscriptions() === 0, 'every subscription to be dropped');
  });
});

describe('Long-poll across instances', () => {
  it('answers on instance A within 100 ms when the SMS reaches instance B (shared database and Redis)', async (t) => {
    if (!testRedisUrl) {
      t.skip('needs Redis: run with NOVA_TEST_TARGET=postgres and NOVA_TEST_REDIS_URL set');
      return;
    }
    const redisKeyPrefix = uniqueName('nova_test');
    const a = await startTestServer({ redisKeyPrefix });
    const b = await startTestServer({ redisKeyPrefix, database: a.database, clock: a.clock });
    try {
      const openOnA = watchLongPolls(a);
      const { apiKey, secret, number, id } = await buyOne(a);
      await a.api(apiKey).get(`/api/v1/activations/${id}`);
      let resolvedAt = 0;
      const polling = a.api(apiKey).get(`/api/v1/activations/${id}?wait=20`).then((response) => {
        resolvedAt = performance.now();
        return response;
      });
      await until(() => openOnA() > 0, 'the long-poll on A to subscribe');
      await sleep(150);
      const sms = await b.api(secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 24680' });
      const ingested = performance.now();
      assert.equal(sms.status, 200);
      assert.equal(sms.body.data.activation_id, id);
      const response = await polling;
      assert.equal(response.body.data.activation.code, '24680');
      assert.ok(resolvedAt - ingested < 100, `A answered ${Math.round(resolvedAt - ingested)} ms after B ingested the SMS`);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
