import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { until } from '../../support/subscriptions.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { testRedisUrl, uniqueName } from '../../support/test-target.ts';
import { openMarket, pushSms, rentOk } from './rental-support.ts';

async function rentOne(server: TestServer) {
  const countryId = await openMarket(server);
  const { secret } = await server.createProvider({ countryId, count: 1, rentable: true });
  const { apiKey } = await server.createCompany('10');
  const rental = await rentOk(server.api(apiKey), countryId, 2);
  return { apiKey, secret, rental };
}

describe('Long-poll GET /api/v1/rentals/{id}?wait=N', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('answers as soon as the next message arrives, with it on top', async () => {
    const { apiKey, secret, rental } = await rentOne(server);
    await pushSms(server, secret, rental.number, 'First code 111111');
    let resolvedAt = 0;
    const polling = server.api(apiKey).get(`/api/v1/rentals/${rental.id}?wait=20`).then((response) => {
      resolvedAt = performance.now();
      return response;
    });
    await until(() => server.services.rentals.waiting() > 0, 'the long-poll to wait');
    await sleep(150);
    assert.equal(resolvedAt, 0, 'it waits while nothing changes, even with a message already there');

    const pushed = await pushSms(server, secret, rental.number, 'Second code 222222', 'WhatsApp');
    const ingested = performance.now();
    assert.equal(pushed.status, 200);
    const response = await polling;
    assert.equal(response.status, 200);
    assert.deepEqual(
      response.body.data.rental.messages.map((m: { code: string }) => m.code),
      ['222222', '111111'],
    );
    assert.ok(resolvedAt - ingested < 500, `answered ${Math.round(resolvedAt - ingested)} ms after the SMS was ingested`);
    await until(() => server.services.rentals.waiting() === 0, 'the wait to end');
  });

  it('answers after the wait, unchanged, when nothing happens', async () => {
    const { apiKey, rental } = await rentOne(server);
    const started = performance.now();
    const response = await server.api(apiKey).get(`/api/v1/rentals/${rental.id}?wait=1`);
    assert.equal(response.status, 200);
    assert.equal(response.body.data.rental.status, 'active');
    assert.deepEqual(response.body.data.rental.messages, []);
    assert.ok(performance.now() - started >= 950, 'it waited');
  });

  it('ends the wait when the rental ends, and answers an ended rental at once', async () => {
    const { apiKey, rental } = await rentOne(server);
    const api = server.api(apiKey);
    const polling = api.get(`/api/v1/rentals/${rental.id}?wait=20`);
    await until(() => server.services.rentals.waiting() > 0, 'the long-poll to wait');
    const finished = await api.post(`/api/v1/rentals/${rental.id}/finish`);
    assert.equal(finished.status, 200);
    const response = await polling;
    assert.equal(response.body.data.rental.status, 'finished');

    const started = performance.now();
    const again = await api.get(`/api/v1/rentals/${rental.id}?wait=20`);
    assert.equal(again.body.data.rental.status, 'finished');
    assert.ok(performance.now() - started < 1000, 'an ended rental has nothing to wait for');
  });

  it('wakes on an extension too, showing the new expiry', async () => {
    const { apiKey, rental } = await rentOne(server);
    const api = server.api(apiKey);
    const polling = api.get(`/api/v1/rentals/${rental.id}?wait=20`);
    await until(() => server.services.rentals.waiting() > 0, 'the long-poll to wait');
    await api.post(`/api/v1/rentals/${rental.id}/extend`, { hours: 1 });
    const response = await polling;
    assert.equal(response.body.data.rental.hours, 3);
  });

  it("refuses someone else's rental with 404 without waiting", async () => {
    const { rental } = await rentOne(server);
    const stranger = await server.createCompany('0');
    const started = performance.now();
    const response = await server.api(stranger.apiKey).get(`/api/v1/rentals/${rental.id}?wait=20`);
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'not_found');
    assert.ok(performance.now() - started < 1000);
    assert.equal(server.services.rentals.waiting(), 0);
  });

  it('drops the wait when the client goes away', async () => {
    const { apiKey, rental } = await rentOne(server);
    const controller = new AbortController();
    const polling = server
      .api(apiKey)
      .raw(`/api/v1/rentals/${rental.id}?wait=30`, { headers: { authorization: `Bearer ${apiKey}` }, signal: controller.signal })
      .catch(() => null);
    await until(() => server.services.rentals.waiting() > 0, 'the long-poll to wait');
    controller.abort();
    await polling;
    await until(() => server.services.rentals.waiting() === 0, 'the wait to be dropped');
  });
});

describe('Rental long-poll across instances', () => {
  it('answers on instance A when the SMS reaches instance B (shared database and Redis)', async (t) => {
    if (!testRedisUrl) {
      t.skip('needs Redis: run with NOVA_TEST_TARGET=postgres and NOVA_TEST_REDIS_URL set');
      return;
    }
    const redisKeyPrefix = uniqueName('nova_test');
    const a = await startTestServer({ redisKeyPrefix });
    const b = await startTestServer({ redisKeyPrefix, database: a.database, clock: a.clock });
    try {
      const { apiKey, secret, rental } = await rentOne(a);
      let resolvedAt = 0;
      const polling = a.api(apiKey).get(`/api/v1/rentals/${rental.id}?wait=20`).then((response) => {
        resolvedAt = performance.now();
        return response;
      });
      await until(() => a.services.rentals.waiting() > 0, 'the long-poll on A to wait');
      await sleep(150);
      const pushed = await pushSms(b, secret, rental.number, 'Code 246810');
      const ingested = performance.now();
      assert.equal(pushed.status, 200);
      const response = await polling;
      assert.deepEqual(response.body.data.rental.messages.map((m: { code: string }) => m.code), ['246810']);
      assert.ok(resolvedAt - ingested < 500, `A answered ${Math.round(resolvedAt - ingested)} ms after B ingested the SMS`);

      // The sweeper of either instance ends it once: B's here, A's finds nothing left.
      a.clock.advance(2 * 3600);
      const [onA, onB] = await Promise.all([a.jobs.rentalExpiry.runOnce(), b.jobs.rentalExpiry.runOnce()]);
      assert.equal(onA + onB, 1, "ended once");
      const read = await a.api(apiKey).get(`/api/v1/rentals/${rental.id}`);
      assert.equal(read.body.data.rental.status, 'expired');
    } finally {
      await b.close();
      await a.close();
    }
  });
});
