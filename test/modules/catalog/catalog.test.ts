import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ApiResponse, type TestServer, startTestServer } from '../../support/test-server.ts';

/**
 * GET /services, /countries and /prices: the catalog a client reads before buying, and the
 * availability it shows, which must match what a purchase can actually get.
 *
 * The test server seeds services tg and wa, countries 6 (US) and 16 (UK), prices tg/6 = 0.50,
 * wa/6 = 0.75, tg/16 = 0.60, and no numbers. Only the stock test below adds numbers, so its
 * counts are exact.
 */

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.close();
});

function dataOf(response: ApiResponse) {
  assert.equal(response.status, 200, `expected 200, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.ok, true);
  return response.body.data;
}

function assertError(response: ApiResponse, status: number, code: string): string {
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.ok, false);
  assert.equal(response.body.error.code, code);
  return response.body.error.message;
}

describe('services and countries', () => {
  it('lists the services with their codes and names', async () => {
    const { apiKey } = await server.createCompany();
    const { services } = dataOf(await server.api(apiKey).get('/api/v1/services'));
    assert.deepEqual(services, [
      { code: 'tg', name: 'Telegram' },
      { code: 'wa', name: 'WhatsApp' },
    ]);
  });

  it('lists the countries with numeric id, name, ISO code and dialing prefix', async () => {
    const { apiKey } = await server.createCompany();
    const { countries } = dataOf(await server.api(apiKey).get('/api/v1/countries'));
    assert.deepEqual(countries, [
      { id: 6, name: 'United States', iso: 'US', prefix: '+1' },
      { id: 16, name: 'United Kingdom', iso: 'GB', prefix: '+44' },
    ]);
  });

  it('shows the catalog only to a client with an API key', async () => {
    for (const pathname of ['/api/v1/services', '/api/v1/countries', '/api/v1/prices']) {
      assertError(await server.api().get(pathname), 401, 'unauthorized');
    }
  });
});

describe('prices', () => {
  it('counts free numbers as available: down one per sale, back for other services once the activation ends, never again for the service it was sold for', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const price = async (service: string, country: number) => dataOf(await api.get(`/api/v1/prices?service=${service}&country=${country}`));

    // No numbers yet: the price is there, the stock is not.
    assert.deepEqual(await price('tg', 6), { service: 'tg', country: 6, price: 0.5, available: 0, in_stock: false });

    const { numbers } = await server.createProvider({ countryId: 6, count: 3 });
    assert.equal(numbers.length, 3);
    assert.deepEqual(await price('tg', 6), { service: 'tg', country: 6, price: 0.5, available: 3, in_stock: true });
    assert.deepEqual(await price('wa', 6), { service: 'wa', country: 6, price: 0.75, available: 3, in_stock: true });
    // US numbers are not UK stock.
    assert.deepEqual(await price('tg', 16), { service: 'tg', country: 16, price: 0.6, available: 0, in_stock: false });

    const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const activation = bought.body.data.activation;
    // A busy number is free for no service.
    assert.equal((await price('tg', 6)).available, 2);
    assert.equal((await price('wa', 6)).available, 2);

    server.clock.advance(181);
    const cancelled = await api.post(`/api/v1/activations/${activation.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.data.activation.status, 'cancelled');
    // Released: free again for WhatsApp, but never resold for Telegram (it may have received a tg code).
    assert.deepEqual(await price('wa', 6), { service: 'wa', country: 6, price: 0.75, available: 3, in_stock: true });
    assert.deepEqual(await price('tg', 6), { service: 'tg', country: 6, price: 0.5, available: 2, in_stock: true });

    // Selling the remaining two for tg empties tg stock while wa still has the cancelled number.
    for (let i = 0; i < 2; i++) {
      const response = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.notEqual(response.body.data.activation.number, activation.number);
    }
    assert.deepEqual(await price('tg', 6), { service: 'tg', country: 6, price: 0.5, available: 0, in_stock: false });
    assert.deepEqual(await price('wa', 6), { service: 'wa', country: 6, price: 0.75, available: 1, in_stock: true });
    // What the price says, a purchase confirms.
    assertError(await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 }), 409, 'out_of_stock');
  });

  it('answers an unknown service with 404 unknown_service', async () => {
    const { apiKey } = await server.createCompany();
    const api = server.api(apiKey);
    const message = assertError(await api.get('/api/v1/prices?service=zz&country=6'), 404, 'unknown_service');
    assert.match(message, /zz/);
    assertError(await api.get('/api/v1/prices?service=zz'), 404, 'unknown_service');
  });

  it('answers an unknown country with 404 unknown_country', async () => {
    const { apiKey } = await server.createCompany();
    const api = server.api(apiKey);
    const message = assertError(await api.get('/api/v1/prices?service=tg&country=999'), 404, 'unknown_country');
    assert.match(message, /999/);
    assertError(await api.get('/api/v1/prices?country=999'), 404, 'unknown_country');
  });

  it('answers a country that is not a number with 400 invalid_request', async () => {
    const { apiKey } = await server.createCompany();
    const message = assertError(await server.api(apiKey).get('/api/v1/prices?service=tg&country=abc'), 400, 'invalid_request');
    assert.match(message, /country/);
  });

  it('lists the whole price table without filters', async () => {
    const { apiKey } = await server.createCompany();
    const data = dataOf(await server.api(apiKey).get('/api/v1/prices'));
    assert.deepEqual(Object.keys(data), ['prices']);
    assert.deepEqual(
      data.prices.map((row: { service: string; country: number; price: number }) => [row.service, row.country, row.price]),
      [
        ['tg', 6, 0.5],
        ['tg', 16, 0.6],
        ['wa', 6, 0.75],
      ],
    );
    for (const row of data.prices) {
      assert.deepEqual(Object.keys(row).sort(), ['available', 'country', 'in_stock', 'price', 'service']);
      assert.equal(row.in_stock, row.available > 0);
    }
  });

  it('lists only the rows of one service or one country when filtered by it', async () => {
    const { apiKey } = await server.createCompany();
    const api = server.api(apiKey);
    const tg = dataOf(await api.get('/api/v1/prices?service=tg'));
    assert.deepEqual(
      tg.prices.map((row: { service: string; country: number }) => [row.service, row.country]),
      [
        ['tg', 6],
        ['tg', 16],
      ],
    );
    const us = dataOf(await api.get('/api/v1/prices?country=6'));
    assert.deepEqual(
      us.prices.map((row: { service: string; country: number }) => [row.service, row.country]),
      [
        ['tg', 6],
        ['wa', 6],
      ],
    );
  });
});
