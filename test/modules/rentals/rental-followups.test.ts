import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { until } from '../../support/subscriptions.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { openMarket, pushSms, rentOk, rentalOf } from './rental-support.ts';

describe('Long-poll with after=<message id>: an SMS that arrived between two polls', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function rentOne() {
    const countryId = await openMarket(server);
    const { secret } = await server.createProvider({ countryId, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    return { api, secret, rental: await rentOk(api, countryId, 2) };
  }

  it('is answered at once when a message newer than `after` is already there', async () => {
    const { api, secret, rental } = await rentOne();
    await pushSms(server, secret, rental.number, 'First code 111111');
    const firstPoll = await rentalOf(api, rental.id);
    const known = firstPoll.messages[0].id;
    // The client is between two polls when the second SMS comes.
    await pushSms(server, secret, rental.number, 'Second code 222222', 'WhatsApp');

    const started = performance.now();
    const response = await api.get(`/api/v1/rentals/${rental.id}?wait=20&after=${known}`);
    const took = performance.now() - started;
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(
      response.body.data.rental.messages.map((m: { code: string }) => m.code),
      ['222222', '111111'],
    );
    assert.ok(took < 2000, `answered in ${Math.round(took)} ms, not after the 20 s wait`);
  });

  it('waits as before when nothing is newer than `after`, and answers with the next SMS', async () => {
    const { api, secret, rental } = await rentOne();
    await pushSms(server, secret, rental.number, 'First code 333333');
    const known = (await rentalOf(api, rental.id)).messages[0].id;

    const started = performance.now();
    const unchanged = await api.get(`/api/v1/rentals/${rental.id}?wait=1&after=${known}`);
    assert.equal(unchanged.status, 200);
    assert.equal(unchanged.body.data.rental.messages.length, 1);
    assert.ok(performance.now() - started >= 950, 'it waited the whole second');

    const waitsBefore = server.services.rentals.waiting();
    const polling = api.get(`/api/v1/rentals/${rental.id}?wait=20&after=${known}`);
    await until(() => server.services.rentals.waiting() > waitsBefore, 'the long-poll to wait');
    await pushSms(server, secret, rental.number, 'Next code 444444');
    const answered = await polling;
    assert.equal(answered.body.data.rental.messages[0].code, '444444');
  });

  it('without `after`, a message already there does not end the wait (unchanged behaviour)', async () => {
    const { api, secret, rental } = await rentOne();
    await pushSms(server, secret, rental.number, 'First code 555555');
    const started = performance.now();
    const response = await api.get(`/api/v1/rentals/${rental.id}?wait=1`);
    assert.equal(response.status, 200);
    assert.ok(performance.now() - started >= 950, 'it waited');
  });

  it('refuses an `after` that is not a message id with a clear error', async () => {
    const { api, rental } = await rentOne();
    for (const bad of ['-1', 'abc', '1.5']) {
      const response = await api.get(`/api/v1/rentals/${rental.id}?wait=1&after=${bad}`);
      assert.equal(response.status, 400, bad);
      assert.equal(response.body.ok, false);
      assert.equal(response.body.error.code, 'invalid_request');
      assert.match(response.body.error.message, /after/);
    }
  });
});

describe('A number once rented is never sold as an activation for a service that existed when it was rented', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function available(api: ReturnType<TestServer['api']>, service: string, countryId: number): Promise<number> {
    const response = await api.get(`/api/v1/prices?service=${service}&country=${countryId}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.data.available;
  }

  it('after the rental ends, activations for any service get the other number, stock counts leave it out, and it stays rentable', async () => {
    const countryId = await openMarket(server); // tg and wa on sale
    const { numbers } = await server.createProvider({ countryId, count: 1, rentable: true });
    const { numbers: others } = await server.createProvider({ countryId, count: 1 });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    assert.equal(await available(api, 'tg', countryId), 2);

    const rental = await rentOk(api, countryId, 2);
    assert.equal(rental.number, numbers[0]);
    assert.equal((await api.post(`/api/v1/rentals/${rental.id}/finish`)).status, 200);

    // Free again, but used for every service: the activation stock counts only the other number.
    assert.equal(await available(api, 'tg', countryId), 1);
    assert.equal(await available(api, 'wa', countryId), 1);
    const rentable = await api.get(`/api/v1/rentals/prices?country=${countryId}`);
    assert.equal(rentable.body.data.prices[0].available, 1, 'it stays free to rent');

    const tg = await api.post('/api/v1/activations', { service_code: 'tg', country_id: countryId });
    assert.equal(tg.status, 201, JSON.stringify(tg.body));
    assert.equal(tg.body.data.activation.number, others[0], 'tg gets the number that was never rented');
    assert.equal(await available(api, 'wa', countryId), 0, 'the rented number does not count for wa either');
    const wa = await api.post('/api/v1/activations', { service_code: 'wa', country_id: countryId });
    assert.equal(wa.status, 409, JSON.stringify(wa.body));
    assert.equal(wa.body.error.code, 'out_of_stock', 'wa is not sold the number the renter may have used for it');

    server.clock.advance(180); // the cancel opens 3 minutes after buying (NOVA_CANCEL_AFTER_S)
    const cancelled = await api.post(`/api/v1/activations/${tg.body.data.activation.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const waAgain = await api.post('/api/v1/activations', { service_code: 'wa', country_id: countryId });
    assert.equal(waAgain.status, 201, JSON.stringify(waAgain.body));
    assert.equal(waAgain.body.data.activation.number, others[0]);

    const rentedAgain = await rentOk(api, countryId, 1);
    assert.equal(rentedAgain.number, numbers[0], 'it is rented again');
  });

  it('a service added to the catalog after the rental may still get the number', async () => {
    const countryId = await openMarket(server);
    const { numbers } = await server.createProvider({ countryId, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const rental = await rentOk(api, countryId, 1);
    assert.equal((await api.post(`/api/v1/rentals/${rental.id}/finish`)).status, 200);

    const code = `nr${countryId}`;
    await server.services.catalog.upsertService({ code, name: `New service ${countryId}` });
    await server.services.catalog.setPrice({ serviceCode: code, countryId, price: 5000 });
    assert.equal(await available(api, 'tg', countryId), 0);
    assert.equal(await available(api, code, countryId), 1);
    const bought = await api.post('/api/v1/activations', { service_code: code, country_id: countryId });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    assert.equal(bought.body.data.activation.number, numbers[0]);
  });
});
