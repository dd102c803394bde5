import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SignedInStaff, consoleClient, signInStaff } from '../support/console-client.ts';
import { type ApiResponse, type TestServer, startTestServer } from '../support/test-server.ts';

/**
 * Rental prices in the console (issue 11): admins list and set them per country and operator;
 * each change is live at once in GET /api/v1/rentals/prices and audited before → after.
 */

function dataOf(response: ApiResponse) {
  assert.equal(response.status, 200, `expected 200, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.ok, true);
  return response.body.data;
}

function assertError(response: ApiResponse, status: number, code: string, message?: RegExp) {
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.ok, false);
  assert.equal(response.body.error.code, code);
  if (message) assert.match(response.body.error.message, message);
}

describe('console rental prices', { timeout: 120_000 }, () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let apiKey: string;
  let countryCounter = 0;

  before(async () => {
    server = await startTestServer();
    admin = await signInStaff(server, 'admin');
    apiKey = (await server.createCompany('10')).apiKey;
  });
  after(async () => {
    await server?.close();
  });

  async function newCountry() {
    const id = 930 + ++countryCounter;
    await server.services.catalog.upsertCountry({ id, name: `Console rental land ${id}`, iso: `Q${countryCounter}`, dialPrefix: '1' });
    return id;
  }

  async function newestAudit(targetId: string) {
    const [entry] = await server.services.audit.list({ action: 'rental_price.set', targetId, limit: 1 });
    assert.ok(entry, `no audit entry rental_price.set ${targetId}`);
    return entry as typeof entry & { before: any; after: any };
  }

  it('sets a country price and an operator price, live at once in the public API, and lists them with the numbers free to rent', async () => {
    const country = await newCountry();
    await server.createProvider({ countryId: country, count: 2, rentable: true });
    const set = dataOf(await admin.client.post('/rental-prices', { country, price_per_hour: '0.20', price_per_day: 2.5 }));
    assert.deepEqual(set.price, { country, operator: 'any', price_per_hour: 0.2, price_per_day: 2.5, available: 2 });
    const op = dataOf(await admin.client.post('/rental-prices', { country, operator: 'fastnet', price_per_hour: 0.3, price_per_day: '3.00' }));
    assert.deepEqual(op.price, { country, operator: 'fastnet', price_per_hour: 0.3, price_per_day: 3, available: 0 });

    const listed = dataOf(await admin.client.get(`/rental-prices?country=${country}`)).prices;
    assert.deepEqual(
      listed.map((p: { operator: string; price_per_hour: number; price_per_day: number }) => [p.operator, p.price_per_hour, p.price_per_day]),
      [
        ['any', 0.2, 2.5],
        ['fastnet', 0.3, 3],
      ],
    );
    const all = dataOf(await admin.client.get('/rental-prices')).prices;
    assert.ok(all.some((p: { country: number }) => p.country === country), 'the full list has it too');

    const publicPrices = dataOf(await server.api(apiKey).get(`/api/v1/rentals/prices?country=${country}`)).prices;
    assert.deepEqual(publicPrices, listed, 'customers see the same prices at once');
    const rented = await server.api(apiKey).post('/api/v1/rentals', { country_id: country, hours: 25 });
    assert.equal(rented.status, 201, JSON.stringify(rented.body));
    assert.equal(rented.body.data.rental.price, 2.7, 'a day and an hour at the new price');
  });

  it('audits every change with the staff member, before → after', async () => {
    const country = await newCountry();
    dataOf(await admin.client.post('/rental-prices', { country, price_per_hour: 0.2, price_per_day: 2.5 }));
    const first = await newestAudit(`${country}:any`);
    assert.equal(first.actor, `staff:${admin.email}`);
    assert.equal(first.staffId, admin.staffId);
    assert.equal(first.before, null);
    assert.deepEqual(first.after, { price_per_hour: 0.2, price_per_day: 2.5 });

    dataOf(await admin.client.post('/rental-prices', { country, price_per_hour: 0.25, price_per_day: 2.75 }));
    const second = await newestAudit(`${country}:any`);
    assert.deepEqual([second.before, second.after], [
      { price_per_hour: 0.2, price_per_day: 2.5 },
      { price_per_hour: 0.25, price_per_day: 2.75 },
    ]);
  });

  it('refuses bad prices, an unknown country and a bad operator with a clear error, changing nothing', async () => {
    const country = await newCountry();
    assertError(await admin.client.post('/rental-prices', { country, price_per_hour: 0, price_per_day: 2.5 }), 400, 'invalid_request', /Price per hour/);
    assertError(await admin.client.post('/rental-prices', { country, price_per_hour: '0.2', price_per_day: 'lots' }), 400, 'invalid_request', /Price per day/);
    assertError(await admin.client.post('/rental-prices', { country, price_per_hour: '0.123456', price_per_day: 1 }), 400, 'invalid_request');
    assertError(await admin.client.post('/rental-prices', { country, price_per_day: 1 }), 400, 'invalid_request');
    assertError(await admin.client.post('/rental-prices', { country: 99_999, price_per_hour: 0.2, price_per_day: 2 }), 404, 'unknown_country');
    assertError(await admin.client.post('/rental-prices', { country, operator: 'Bad Op!', price_per_hour: 0.2, price_per_day: 2 }), 400, 'invalid_request');
    assertError(await admin.client.get('/rental-prices?country=abc'), 400, 'invalid_request');
    assert.deepEqual(dataOf(await admin.client.get(`/rental-prices?country=${country}`)).prices, []);
    assert.equal((await server.services.audit.list({ action: 'rental_price.set', targetId: `${country}:any`, limit: 1 })).length, 0);
  });

  it('the supply numbers list counts a rented number as busy, naming its rental, and marks rentable numbers', async () => {
    const country = await newCountry();
    dataOf(await admin.client.post('/rental-prices', { country, price_per_hour: 0.2, price_per_day: 2.5 }));
    const { numbers } = await server.createProvider({ countryId: country, count: 1, rentable: true });
    const { numbers: plain } = await server.createProvider({ countryId: country, count: 1 });
    const rented = await server.api(apiKey).post('/api/v1/rentals', { country_id: country, hours: 1 });
    assert.equal(rented.status, 201, JSON.stringify(rented.body));

    const busy = dataOf(await admin.client.get(`/supply/numbers?country_id=${country}&state=busy`));
    assert.equal(busy.total, 1);
    assert.deepEqual(
      busy.numbers.map((n: { e164: string; busy_activation_id: number | null; busy_rental_id: number | null; rentable: boolean }) => [
        n.e164,
        n.busy_activation_id,
        n.busy_rental_id,
        n.rentable,
      ]),
      [[numbers[0], null, rented.body.data.rental.id, true]],
    );
    const all = dataOf(await admin.client.get(`/supply/numbers?country_id=${country}`)).numbers;
    const other = all.find((n: { e164: string }) => n.e164 === plain[0]);
    assert.deepEqual([other.busy_rental_id, other.rentable], [null, false]);

    await server.api(apiKey).post(`/api/v1/rentals/${rented.body.data.rental.id}/finish`);
    assert.equal(dataOf(await admin.client.get(`/supply/numbers?country_id=${country}&state=busy`)).total, 0, 'free again once the rental ends');
  });

  it('is for admins only: support staff and anonymous visitors get 403', async () => {
    const country = await newCountry();
    const support = await signInStaff(server, 'support');
    const anonymous = consoleClient(server.url);
    await anonymous.start();
    for (const client of [support.client, anonymous]) {
      assertError(await client.get('/rental-prices'), 403, 'forbidden');
      assertError(await client.post('/rental-prices', { country, price_per_hour: 0.2, price_per_day: 2 }), 403, 'forbidden');
    }
    assert.deepEqual(dataOf(await admin.client.get(`/rental-prices?country=${country}`)).prices, [], 'nothing was set');
  });
});
