import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPubSub, createServices } from '../../src/app.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { testRedisUrl, testTarget, uniqueName } from '../support/test-target.ts';

/**
 * Two instances on one PostgreSQL database and one Redis, each answering polls and balance reads
 * from its own memory: a change committed through one must show on the other's very next read,
 * with no pause in between (the changing request answers only once the news is on its way).
 */
const skip = testTarget !== 'postgres' || !testRedisUrl ? 'needs PostgreSQL and Redis (NOVA_TEST_TARGET=postgres, NOVA_TEST_REDIS_URL)' : false;

describe('read caches of two instances stay coherent', { skip }, () => {
  let a: TestServer;
  let b: TestServer;
  let provider: { secret: string; numbers: string[] };
  const redisKeyPrefix = uniqueName('nova_cache');

  before(async () => {
    a = await startTestServer({ redisKeyPrefix });
    b = await startTestServer({ redisKeyPrefix, database: a.database, clock: a.clock });
    provider = await a.createProvider({ countryId: 6, count: 10 });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  const hitsOn = (server: TestServer) => server.services.activations.readCacheStats().hits;

  async function poll(server: TestServer, apiKey: string, id: number) {
    const response = await server.api(apiKey).get(`/api/v1/activations/${id}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.data.activation;
  }

  it('shows on B, at the very next poll, the SMS pushed to A, then the completion made on A', async () => {
    const { apiKey } = await a.createCompany('10');
    const bought = await a.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    const { id, number } = bought.body.data.activation;
    await poll(b, apiKey, id);
    const hitsBefore = hitsOn(b);
    for (let i = 0; i < 3; i++) assert.equal((await poll(b, apiKey, id)).status, 'waiting');
    // The purchase's message may reach B just after its first poll read: one more read, never more.
    assert.ok(hitsOn(b) - hitsBefore >= 2, 'B answers the poll from its memory');

    const pushed = await a.api(provider.secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 86420' });
    assert.equal(pushed.body.data.activation_id, id);
    const onB = await poll(b, apiKey, id);
    assert.equal(onB.code, '86420');
    assert.equal(onB.messages.length, 1);
    assert.equal(onB.messages[0].text, 'Telegram code: 86420');

    await poll(b, apiKey, id);
    assert.equal((await a.api(apiKey).post(`/api/v1/activations/${id}/complete`)).status, 200);
    assert.equal((await poll(b, apiKey, id)).status, 'completed');
  });

  it('shows on A, which kept the activation it sold, the SMS pushed to B at A’s very next poll, and cancels nothing there', async () => {
    const { apiKey } = await a.createCompany('10');
    const { id, number } = (await a.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    const hitsBefore = hitsOn(a);
    assert.equal((await poll(a, apiKey, id)).status, 'waiting');
    assert.equal(hitsOn(a) - hitsBefore, 1, 'A answers from the copy its purchase kept');

    const pushed = await b.api(provider.secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 97531' });
    assert.equal(pushed.body.data.activation_id, id);
    const onA = await poll(a, apiKey, id);
    assert.deepEqual([onA.status, onA.code], ['sms_received', '97531']);
    a.clock.advance(181);
    const cancel = await a.api(apiKey).post(`/api/v1/activations/${id}/cancel`);
    assert.equal(cancel.body.error?.code, 'invalid_state', JSON.stringify(cancel.body));
    assert.equal((await a.api(apiKey).get('/api/v1/balance')).body.data.balance, 9.5);
  });

  it('shows on A a cancel made on B, and refuses another company’s key on both, cached or not', async () => {
    const owner = await a.createCompany('10');
    const stranger = await a.createCompany('10');
    const { id } = (await b.api(owner.apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    for (const server of [a, b]) {
      await poll(server, owner.apiKey, id);
      const foreign = await server.api(stranger.apiKey).get(`/api/v1/activations/${id}`);
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.error.code, 'not_found');
    }
    a.clock.advance(181);
    assert.equal((await b.api(owner.apiKey).post(`/api/v1/activations/${id}/cancel`)).status, 200);
    assert.equal((await poll(a, owner.apiKey, id)).status, 'cancelled');
  });

  it('shows on B, at the very next read, the balance after a top-up, a buy and a refund on A', async () => {
    const company = await a.createCompany('10');
    const balanceOn = async (server: TestServer) => (await server.api(company.apiKey).get('/api/v1/balance')).body.data.balance;
    assert.equal(await balanceOn(b), 10);
    const hitsBefore = b.services.billing.balanceCacheStats().hits;
    for (let i = 0; i < 3; i++) assert.equal(await balanceOn(b), 10);
    assert.ok(b.services.billing.balanceCacheStats().hits - hitsBefore >= 2, 'B answers the balance from its memory');

    await a.services.billing.credit({ companyId: company.companyId, amount: 50_000, kind: 'topup', reason: 'test top-up' });
    assert.equal(await balanceOn(b), 15);
    const { id } = (await a.api(company.apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    assert.equal(await balanceOn(b), 14.5);
    a.clock.advance(181);
    await a.api(company.apiKey).post(`/api/v1/activations/${id}/cancel`);
    assert.equal(await balanceOn(b), 15);
  });

  it('shows on both instances a credit made by the operator CLI’s services (Redis, no server)', async () => {
    const company = await a.createCompany('1');
    const balanceOn = async (server: TestServer) => (await server.api(company.apiKey).get('/api/v1/balance')).body.data.balance;
    assert.equal(await balanceOn(a), 1);
    assert.equal(await balanceOn(b), 1);
    // As src/cli/nova.ts builds them: its own services and bus, the servers' database and Redis.
    const pubsub = createPubSub(a.config, redisKeyPrefix);
    try {
      const cli = createServices({ config: a.config, database: a.database, clock: a.clock, pubsub });
      await cli.billing.credit({ companyId: company.companyId, amount: 20_000, kind: 'adjustment', reason: 'operator credit' });
    } finally {
      await pubsub.close();
    }
    assert.equal(await balanceOn(a), 3);
    assert.equal(await balanceOn(b), 3);
  });
});
