import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  NovaActivationEndedError,
  NovaClient,
  NovaError,
  NovaTimeoutError,
} from '../../packages/client/src/index.ts';
import { until, watchLongPolls } from '../support/subscriptions.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

describe('TypeScript SDK against a running server', () => {
  let server: TestServer;
  let openSubscriptions: () => number;

  before(async () => {
    server = await startTestServer();
    openSubscriptions = watchLongPolls(server);
  });
  after(() => server.close());

  async function customer(credit = '10') {
    const { apiKey } = await server.createCompany(credit);
    return new NovaClient({ apiKey, baseUrl: server.url });
  }

  it('buys a number, waits for its code by long-poll and completes it', async () => {
    const nova = await customer('10');
    const { secret } = await server.createProvider({ countryId: 6, count: 1 });
    const activation = await nova.buy({ service: 'tg', country: 6, maxPrice: 0.6 });
    assert.equal(activation.status, 'waiting');
    assert.equal(activation.price, 0.5);

    const waiting = nova.waitForCode(activation.id, { timeout: 10_000 });
    await until(() => openSubscriptions() > 0, 'waitForCode to long-poll');
    await server.api(secret).post('/api/v1/supply/sms', { to: activation.number, from: 'Telegram', text: 'Telegram code: 48213' });
    const received = await waiting;
    assert.equal(received.code, '48213');
    assert.equal(received.status, 'sms_received');
    assert.equal(received.messages[0].from, 'Telegram');

    const completed = await nova.complete(activation.id);
    assert.equal(completed.status, 'completed');
    assert.deepEqual(await nova.balance(), { balance: 9.5, currency: 'USD' });
    const page = await nova.list({ status: 'completed', limit: 5 });
    assert.equal(page.total, 1);
    assert.equal(page.activations[0].id, activation.id);
  });

  it('reads the catalog: services, countries, one price or the table', async () => {
    const nova = await customer('0');
    assert.deepEqual((await nova.services()).map((s) => s.code).sort(), ['tg', 'wa']);
    assert.ok((await nova.countries()).some((c) => c.id === 16 && c.prefix === '+44'));
    const one = await nova.prices({ service: 'tg', country: 16 });
    assert.equal(one.price, 0.6);
    const table = await nova.prices({ service: 'tg' });
    assert.deepEqual(table.map((p) => p.country).sort(), [16, 6]);
  });

  it('throws a typed error carrying the API code and status: insufficient balance', async () => {
    const nova = await customer('0.2');
    await server.createProvider({ countryId: 6, count: 1 });
    const error = await nova.buy({ service: 'tg', country: 6 }).then(
      () => assert.fail('bought without money'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof NovaError);
    assert.ok(NovaError.is(error, 'insufficient_balance'));
    assert.equal(error.status, 402);
    assert.match(error.message, /below the price/);
    assert.ok(!NovaError.is(error, 'out_of_stock'));
  });

  it('sends one Idempotency-Key per buy, so a retry after a lost answer never buys twice', async () => {
    const { apiKey } = await server.createCompany('10');
    await server.createProvider({ countryId: 6, count: 2 });
    let lostOnce = false;
    const keys: string[] = [];
    const nova = new NovaClient({
      apiKey,
      baseUrl: server.url,
      retryDelayMs: 10,
      // The server handles the first purchase, then the connection drops before the answer arrives.
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST') keys.push(new Headers(init.headers).get('idempotency-key') ?? '');
        if (init?.method === 'POST' && !lostOnce) {
          lostOnce = true;
          throw new TypeError('fetch failed: socket hang up');
        }
        return response;
      },
    });
    const activation = await nova.buy({ service: 'tg', country: 6 });
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
    assert.ok(keys[0].length >= 16);
    const page = await nova.list();
    assert.equal(page.total, 1);
    assert.equal(page.activations[0].id, activation.id);
    assert.equal((await nova.balance()).balance, 9.5);

    // A given key is sent as is, and reusing it returns the same purchase.
    const again = await nova.buy({ service: 'tg', country: 6 }, { idempotencyKey: 'order-7' });
    const replay = await nova.buy({ service: 'tg', country: 6 }, { idempotencyKey: 'order-7' });
    assert.equal(replay.id, again.id);
  });

  it('stops waitForCode when its signal aborts, and the server drops the wait', async () => {
    const nova = await customer('10');
    await server.createProvider({ countryId: 6, count: 1 });
    const activation = await nova.buy({ service: 'tg', country: 6 });
    const before = openSubscriptions();
    const controller = new AbortController();
    const waiting = nova.waitForCode(activation.id, { timeout: 60_000, signal: controller.signal });
    await until(() => openSubscriptions() === before + 1, 'waitForCode to long-poll');
    const started = performance.now();
    controller.abort();
    await assert.rejects(waiting, { name: 'AbortError' });
    assert.ok(performance.now() - started < 500);
    await until(() => openSubscriptions() === before, 'the server to drop the long-poll');
  });

  it('gives up waiting after the timeout, and tells an activation that ended without a code', async () => {
    const nova = await customer('10');
    await server.createProvider({ countryId: 6, count: 1 });
    const activation = await nova.buy({ service: 'tg', country: 6 });
    const started = performance.now();
    await assert.rejects(nova.waitForCode(activation.id, { timeout: 1200 }), (error: unknown) => {
      assert.ok(error instanceof NovaTimeoutError);
      assert.equal(error.activationId, activation.id);
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 1100 && elapsed < 3000, `gave up after ${Math.round(elapsed)} ms`);

    await assert.rejects(nova.cancel(activation.id), (error: unknown) => NovaError.is(error, 'too_early') && error.status === 409);
    server.clock.advance(181);
    await nova.cancel(activation.id);
    await assert.rejects(nova.waitForCode(activation.id), (error: unknown) => {
      assert.ok(error instanceof NovaActivationEndedError);
      assert.equal(error.activation.status, 'cancelled');
      return true;
    });
  });
});
