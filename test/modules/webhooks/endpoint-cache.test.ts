import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { testRedisUrl, testTarget, uniqueName } from '../../support/test-target.ts';

/**
 * Whether a company has webhook endpoints is kept in memory (purchases skip the endpoint lookup
 * when it has none). A company that bought before it had an endpoint, then registers one, must get
 * the very next event: on the same instance and on another.
 */
const env = { NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1', NOVA_WEBHOOK_INTERVAL_MS: '600000' };
const url = 'http://127.0.0.1:9/hook';

let code = 40000;

/** Buys a number and has its SMS arrive (the event the endpoints below subscribe to). */
async function buyAndReceive(server: TestServer, apiKey: string, providerSecret: string): Promise<void> {
  const bought = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
  assert.equal(bought.status, 201, JSON.stringify(bought.body));
  const pushed = await server.api(providerSecret).post('/api/v1/supply/sms', { to: bought.body.data.activation.number, from: 'Telegram', text: `Telegram code: ${code++}` });
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
}

async function register(server: TestServer, apiKey: string): Promise<number> {
  const created = await server.api(apiKey).post('/api/v1/webhooks', { url, events: ['activation.sms_received'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.data.webhook.id as number;
}

/** The events queued for the endpoint (the list shows no payload: one purchase's event each here). */
async function queuedEvents(server: TestServer, apiKey: string, webhookId: number): Promise<string[]> {
  const answer = await server.api(apiKey).get(`/api/v1/webhooks/${webhookId}/deliveries`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return (answer.body.data.deliveries as { event: string }[]).map((delivery) => delivery.event);
}

describe('webhook endpoints known from memory', () => {
  let server: TestServer;
  let provider: { secret: string };
  before(async () => {
    server = await startTestServer({ env });
    provider = await server.createProvider({ countryId: 6, count: 10 });
  });
  after(() => server?.close());

  it('a company without endpoints registers one: the very next event is delivered', async () => {
    const { apiKey } = await server.createCompany('10');
    await buyAndReceive(server, apiKey, provider.secret); // remembered: no endpoint
    const webhookId = await register(server, apiKey);
    await buyAndReceive(server, apiKey, provider.secret);
    assert.deepEqual(await queuedEvents(server, apiKey, webhookId), ['activation.sms_received']);
  });
});

describe('webhook endpoints known from memory, two instances', { skip: testTarget !== 'postgres' || !testRedisUrl ? 'needs PostgreSQL and Redis (NOVA_TEST_TARGET=postgres, NOVA_TEST_REDIS_URL)' : false }, () => {
  let a: TestServer;
  let b: TestServer;
  let provider: { secret: string };
  before(async () => {
    const redisKeyPrefix = uniqueName('nova_hooks');
    a = await startTestServer({ env, redisKeyPrefix });
    b = await startTestServer({ env, redisKeyPrefix, database: a.database, clock: a.clock });
    provider = await a.createProvider({ countryId: 6, count: 10 });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  it('an endpoint registered on A: the very next event on B is delivered', async () => {
    const { apiKey } = await a.createCompany('10');
    await buyAndReceive(b, apiKey, provider.secret); // B remembers: no endpoint
    const webhookId = await register(a, apiKey);
    await buyAndReceive(b, apiKey, provider.secret);
    assert.deepEqual(await queuedEvents(a, apiKey, webhookId), ['activation.sms_received']);
  });
});
