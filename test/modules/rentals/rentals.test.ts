import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rentalCost } from '../../../src/modules/rentals/rental-price.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { apiTimeMs, assertLedgerVerifies, balanceOf, openMarket, pushSms, rentalOf, rentOk } from './rental-support.ts';

const apiTime = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
const hourMs = 3600 * 1000;

describe('rental price rule', () => {
  const price = { pricePerHour: 2000, pricePerDay: 25_000 };
  for (const [hours, expected] of [
    [1, 2000],
    [3, 6000],
    [12, 24_000],
    // 13 hours at the hour price would be 2.60: never more than a day.
    [13, 25_000],
    [23, 25_000],
    [24, 25_000],
    [25, 27_000],
    [48, 50_000],
    [71, 75_000],
    [720, 750_000],
  ] as const) {
    it(`charges ${expected / 10_000} USD for ${hours} h at 0.20/h and 2.50/day`, () => {
      assert.equal(rentalCost(hours, price), expected);
    });
  }
});

describe('rentals over HTTP', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('lists rental prices per hour and per day with the free rentable numbers, per country and operator', async () => {
    const countryId = await openMarket(server);
    await server.services.rentals.setPrice({ countryId, operator: 'fastnet', pricePerHour: 3000, pricePerDay: 30_000 });
    await server.createProvider({ countryId, count: 3, rentable: true });
    await server.createProvider({ countryId, count: 2, rentable: true, operator: 'fastnet' });
    // Not rentable: sold as activations only.
    await server.createProvider({ countryId, count: 4 });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);

    const listed = await api.get(`/api/v1/rentals/prices?country=${countryId}`);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.data.prices, [
      { country: countryId, operator: 'any', price_per_hour: 0.2, price_per_day: 2.5, available: 5 },
      { country: countryId, operator: 'fastnet', price_per_hour: 0.3, price_per_day: 3, available: 2 },
    ]);
    const all = await api.get('/api/v1/rentals/prices');
    assert.ok(all.body.data.prices.some((p: { country: number }) => p.country === countryId));

    await rentOk(api, countryId, 2, { operator: 'fastnet' });
    const after = (await api.get(`/api/v1/rentals/prices?country=${countryId}`)).body.data.prices;
    assert.deepEqual(after.map((p: { available: number }) => p.available), [4, 1], 'a rented number is no longer free to rent');

    const unknown = await api.get('/api/v1/rentals/prices?country=99999');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'unknown_country');
    const bad = await api.get('/api/v1/rentals/prices?country=six');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_request');
    assert.equal((await server.api().get('/api/v1/rentals/prices')).status, 401);
  });

  it('rents a number, charges it once with a ledger row naming the rental, and shows it as documented', async () => {
    const countryId = await openMarket(server);
    const { numbers } = await server.createProvider({ countryId, count: 1, rentable: true });
    const { apiKey, companyId } = await server.createCompany('10');
    const api = server.api(apiKey);

    const response = await api.post('/api/v1/rentals', { country_id: countryId, hours: 25 });
    assert.equal(response.status, 201);
    const rental = response.body.data.rental;
    assert.deepEqual(
      { ...rental, id: 0, created_at: '', expires_at: '' },
      { id: 0, type: 'rent', number: numbers[0], country: countryId, operator: 'any', price: 2.7, status: 'active', hours: 25, created_at: '', expires_at: '', finished_at: null, messages: [] },
    );
    assert.match(rental.created_at, apiTime);
    assert.equal(apiTimeMs(rental.expires_at) - apiTimeMs(rental.created_at), 25 * hourMs);
    assert.equal(await balanceOf(api), 7.3);

    const ledger = await server.services.billing.ledger(companyId, { limit: 10, offset: 0 });
    const charges = ledger.filter((row) => row.kind === 'purchase');
    assert.deepEqual(
      charges.map((row) => ({ amount: row.amount, rentalId: row.rentalId, activationId: row.activationId })),
      [{ amount: -27_000, rentalId: rental.id, activationId: null }],
    );

    const read = await rentalOf(api, rental.id);
    assert.deepEqual(read, rental);
    await assertLedgerVerifies(server);
  });

  it('delivers every SMS to a rented number, for every service, to the rental (newest first) and to no activation', async () => {
    const countryId = await openMarket(server);
    const { secret, numbers } = await server.createProvider({ countryId, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const rental = await rentOk(api, countryId);

    const tg = await pushSms(server, secret, numbers[0], 'Telegram code: 53811', 'Telegram');
    assert.equal(tg.status, 200);
    assert.equal(tg.body.data.activation_id, null, 'no activation takes an SMS to a rented number');
    server.clock.advance(30);
    const wa = await pushSms(server, secret, numbers[0], 'Your WhatsApp code: 123-456', 'WhatsApp');
    assert.equal(wa.body.data.activation_id, null);

    const read = await rentalOf(api, rental.id);
    assert.equal(read.status, 'active');
    assert.deepEqual(
      read.messages.map((m: { from: string; text: string; code: string | null }) => ({ from: m.from, text: m.text, code: m.code })),
      [
        { from: 'WhatsApp', text: 'Your WhatsApp code: 123-456', code: '123456' },
        { from: 'Telegram', text: 'Telegram code: 53811', code: '53811' },
      ],
    );
    for (const message of read.messages) {
      assert.equal(typeof message.id, 'number');
      assert.match(message.received_at, apiTime);
    }
    assert.ok(read.messages[0].id > read.messages[1].id);
  });

  it('never sells a rented number to an activation, not even once the rental is finished (no refund), and rents it again', async () => {
    const countryId = await openMarket(server);
    const { numbers } = await server.createProvider({ countryId, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const rental = await rentOk(api, countryId, 2);
    assert.equal(await balanceOf(api), 9.6);

    const stock = await api.get(`/api/v1/prices?service=tg&country=${countryId}`);
    assert.equal(stock.body.data.available, 0, 'a rented number is out of activation stock');
    const refused = await api.post('/api/v1/activations', { service_code: 'tg', country_id: countryId });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'out_of_stock');

    const finished = await api.post(`/api/v1/rentals/${rental.id}/finish`);
    assert.equal(finished.status, 200);
    assert.equal(finished.body.data.rental.status, 'finished');
    assert.match(finished.body.data.rental.finished_at, apiTime);
    assert.deepEqual(finished.body.data.rental.messages, []);
    assert.equal(await balanceOf(api), 9.6, 'finishing early refunds nothing');

    // The renter may have registered it anywhere: it is never sold as an activation again.
    const stillRefused = await api.post('/api/v1/activations', { service_code: 'tg', country_id: countryId });
    assert.equal(stillRefused.status, 409);
    assert.equal(stillRefused.body.error.code, 'out_of_stock');
    const rentedAgain = await rentOk(api, countryId, 1);
    assert.equal(rentedAgain.number, numbers[0], 'it is rentable again');
    // Now rented again: not free to rent.
    const busy = await api.post('/api/v1/rentals', { country_id: countryId, hours: 1 });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'out_of_stock');

    const again = await api.post(`/api/v1/rentals/${rental.id}/finish`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'invalid_state');
    assert.match(again.body.error.message, /finished/);
    await assertLedgerVerifies(server);
  });

  it('rents only numbers the operator marked rentable, on the operator asked for', async () => {
    const countryId = await openMarket(server);
    await server.createProvider({ countryId, count: 2 });
    const { numbers } = await server.createProvider({ countryId, count: 1, rentable: true, operator: 'fastnet' });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);

    const wrongOperator = await api.post('/api/v1/rentals', { country_id: countryId, hours: 1, operator: 'slownet' });
    assert.equal(wrongOperator.status, 409);
    assert.equal(wrongOperator.body.error.code, 'out_of_stock');
    assert.match(wrongOperator.body.error.message, /slownet/);
    const rental = await rentOk(api, countryId, 1, { operator: 'fastnet' });
    assert.deepEqual({ number: rental.number, operator: rental.operator }, { number: numbers[0], operator: 'fastnet' });
    const none = await api.post('/api/v1/rentals', { country_id: countryId, hours: 1, operator: 'any' });
    assert.equal(none.status, 409, 'the two numbers left are not rentable');
    assert.equal(none.body.error.code, 'out_of_stock');
    assert.match(none.body.error.message, /No numbers left to rent/);
  });

  it('refuses a country without rental prices, an unknown country, and a company that cannot pay', async () => {
    const unpriced = await openMarket(server, { rentalPrice: false });
    await server.createProvider({ countryId: unpriced, count: 1, rentable: true });
    const priced = await openMarket(server);
    await server.createProvider({ countryId: priced, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('0.50');
    const api = server.api(apiKey);

    const notForRent = await api.post('/api/v1/rentals', { country_id: unpriced, hours: 1 });
    assert.equal(notForRent.status, 409);
    assert.equal(notForRent.body.error.code, 'out_of_stock');
    assert.match(notForRent.body.error.message, /not for rent/);
    const unknown = await api.post('/api/v1/rentals', { country_id: 99999, hours: 1 });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'unknown_country');

    const broke = await api.post('/api/v1/rentals', { country_id: priced, hours: 3 });
    assert.equal(broke.status, 402);
    assert.equal(broke.body.error.code, 'insufficient_balance');
    assert.equal(broke.body.error.message, 'Balance 0.5000 USD is below the price 0.6000 USD; top up on the website');
    assert.equal(await balanceOf(api), 0.5);
    const stock = (await api.get(`/api/v1/rentals/prices?country=${priced}`)).body.data.prices[0];
    assert.equal(stock.available, 1, 'a refused rental leaves its number free');
    // Out of stock and broke: the balance is what the customer hears about first, as with purchases.
    const empty = await openMarket(server);
    const brokeAndEmpty = await api.post('/api/v1/rentals', { country_id: empty, hours: 3 });
    assert.equal(brokeAndEmpty.status, 402);
    // It can pay for 2 hours.
    const rental = await rentOk(api, priced, 2);
    assert.equal(rental.price, 0.4);
    assert.equal(await balanceOf(api), 0.1);
    await assertLedgerVerifies(server);
  });

  it('answers invalid requests with 400 invalid_request in the envelope', async () => {
    const countryId = await openMarket(server);
    await server.createProvider({ countryId, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const rental = await rentOk(api, countryId, 1);
    const invalid = [
      await api.post('/api/v1/rentals', { country_id: countryId, hours: 0 }),
      await api.post('/api/v1/rentals', { country_id: countryId, hours: 721 }),
      await api.post('/api/v1/rentals', { country_id: countryId, hours: 1.5 }),
      await api.post('/api/v1/rentals', { country_id: countryId }),
      await api.post('/api/v1/rentals', { hours: 3 }),
      await api.post('/api/v1/rentals', { country_id: countryId, hours: 3, operator: '' }),
      await api.post('/api/v1/rentals', { country_id: countryId, hours: 3, service_code: 'tg' }),
      await api.post('/api/v1/rentals', { country_id: `${countryId}`, hours: 'three' }),
      await api.post('/api/v1/rentals', { country_id: countryId, hours: 3 }, { 'idempotency-key': 'k'.repeat(129) }),
      await api.post(`/api/v1/rentals/${rental.id}/extend`, { hours: 0 }),
      await api.post(`/api/v1/rentals/${rental.id}/extend`, {}),
      await api.get(`/api/v1/rentals/${rental.id}?wait=61`),
      await api.get('/api/v1/rentals/0'),
      await api.get('/api/v1/rentals?status=waiting'),
      await api.get('/api/v1/rentals?limit=101'),
    ];
    for (const response of invalid) {
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.ok, false);
      assert.equal(response.body.error.code, 'invalid_request');
    }
    assert.equal((await api.post('/api/v1/rentals', 'not json', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await rentalOf(api, rental.id)).hours, 1, 'nothing was extended');
    assert.equal(await balanceOf(api), 9.8, 'only the one rental was charged');
  });

  it('answers a retry with the same Idempotency-Key with the first rental, charged once; another body with 409', async () => {
    const countryId = await openMarket(server);
    await server.createProvider({ countryId, count: 3, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const key = { 'idempotency-key': 'rent-once' };

    const first = await api.post('/api/v1/rentals', { country_id: countryId, hours: 3 }, key);
    assert.equal(first.status, 201);
    const retry = await api.post('/api/v1/rentals', { country_id: countryId, hours: 3 }, key);
    assert.equal(retry.status, 201);
    assert.equal(retry.body.data.rental.id, first.body.data.rental.id);
    assert.equal(retry.body.data.rental.number, first.body.data.rental.number);
    assert.equal(await balanceOf(api), 9.4, 'charged once');

    const conflict = await api.post('/api/v1/rentals', { country_id: countryId, hours: 4 }, key);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'idempotency_conflict');
    assert.match(conflict.body.error.message, new RegExp(`rental ${first.body.data.rental.id}`));

    // Retries in flight together: one rental.
    const together = await Promise.all(
      Array.from({ length: 4 }, () => api.post('/api/v1/rentals', { country_id: countryId, hours: 1 }, { 'idempotency-key': 'rent-together' })),
    );
    assert.deepEqual(together.map((r) => r.status), [201, 201, 201, 201]);
    assert.equal(new Set(together.map((r) => r.body.data.rental.id)).size, 1);
    assert.equal(await balanceOf(api), 9.2);

    // Another account's key is its own.
    const other = await server.createCompany('10');
    const theirs = await server.api(other.apiKey).post('/api/v1/rentals', { country_id: countryId, hours: 1 }, key);
    assert.equal(theirs.status, 201);
    assert.notEqual(theirs.body.data.rental.id, first.body.data.rental.id);
    await assertLedgerVerifies(server);
  });

  it("shows owners the company's rentals and members their own; anything else is 404 not_found", async () => {
    const countryId = await openMarket(server);
    await server.createProvider({ countryId, count: 4, rentable: true });
    const { apiKey, companyId } = await server.createCompany('10');
    const owner = server.api(apiKey);
    const member = server.api((await server.addMember(companyId)).apiKey);
    const stranger = server.api((await server.createCompany('10')).apiKey);

    const ownerRental = await rentOk(owner, countryId, 1);
    const memberRental = await rentOk(member, countryId, 2);

    for (const api of [member, stranger]) {
      for (const response of [
        await api.get(`/api/v1/rentals/${ownerRental.id}`),
        await api.get(`/api/v1/rentals/${ownerRental.id}?wait=1`),
        await api.post(`/api/v1/rentals/${ownerRental.id}/extend`, { hours: 1 }),
        await api.post(`/api/v1/rentals/${ownerRental.id}/cancel`),
        await api.post(`/api/v1/rentals/${ownerRental.id}/finish`),
      ]) {
        assert.equal(response.status, 404, JSON.stringify(response.body));
        assert.equal(response.body.error.code, 'not_found');
        assert.equal(response.body.error.message, `Rental ${ownerRental.id} not found for this API key`);
      }
    }
    assert.equal((await stranger.get(`/api/v1/rentals/${memberRental.id}`)).status, 404);
    assert.equal((await owner.get('/api/v1/rentals/999999999')).status, 404);
    assert.equal((await rentalOf(owner, memberRental.id)).id, memberRental.id, "owners see their members' rentals");
    assert.equal((await rentalOf(owner, ownerRental.id)).status, 'active', 'nothing happened to it');

    const ownerList = (await owner.get('/api/v1/rentals')).body.data;
    assert.deepEqual(ownerList.rentals.map((r: { id: number }) => r.id), [memberRental.id, ownerRental.id]);
    assert.deepEqual({ total: ownerList.total, limit: ownerList.limit, offset: ownerList.offset }, { total: 2, limit: 20, offset: 0 });
    assert.equal(ownerList.rentals[0].messages, undefined, 'the list carries no messages');
    const memberList = (await member.get('/api/v1/rentals')).body.data;
    assert.deepEqual(memberList.rentals.map((r: { id: number }) => r.id), [memberRental.id]);
    assert.equal((await stranger.get('/api/v1/rentals')).body.data.total, 0);

    await owner.post(`/api/v1/rentals/${ownerRental.id}/finish`);
    const active = (await owner.get('/api/v1/rentals?status=active')).body.data;
    assert.deepEqual(active.rentals.map((r: { id: number }) => r.id), [memberRental.id]);
    const finished = (await owner.get('/api/v1/rentals?status=finished&limit=1&offset=0')).body.data;
    assert.deepEqual({ ids: finished.rentals.map((r: { id: number }) => r.id), total: finished.total }, { ids: [ownerRental.id], total: 1 });
    const paged = (await owner.get('/api/v1/rentals?limit=1&offset=1')).body.data;
    assert.deepEqual({ ids: paged.rentals.map((r: { id: number }) => r.id), total: paged.total }, { ids: [ownerRental.id], total: 2 });
  });

  it('cancels within 20 minutes and before any SMS for a full refund, extensions included; later it is too_late', async () => {
    const countryId = await openMarket(server);
    const { secret } = await server.createProvider({ countryId, count: 3, rentable: true });
    const { apiKey, companyId } = await server.createCompany('10');
    const api = server.api(apiKey);

    const early = await rentOk(api, countryId, 3);
    await api.post(`/api/v1/rentals/${early.id}/extend`, { hours: 2 });
    assert.equal(await balanceOf(api), 9);
    server.clock.advance(1199);
    const cancelled = await api.post(`/api/v1/rentals/${early.id}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.data.rental.status, 'cancelled');
    assert.match(cancelled.body.data.rental.finished_at, apiTime);
    assert.equal(cancelled.body.data.rental.price, 1);
    assert.equal(await balanceOf(api), 10, 'everything charged is refunded');
    const refunds = (await server.services.billing.ledger(companyId, { limit: 20, offset: 0 })).filter((row) => row.kind === 'refund');
    assert.deepEqual(refunds.map((row) => ({ amount: row.amount, rentalId: row.rentalId })), [{ amount: 10_000, rentalId: early.id }], 'one refund row');
    const again = await api.post(`/api/v1/rentals/${early.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'invalid_state');
    assert.match(again.body.error.message, /cancelled/);
    assert.equal(await balanceOf(api), 10, 'refunded once');

    const late = await rentOk(api, countryId, 1);
    server.clock.advance(1200);
    const tooLate = await api.post(`/api/v1/rentals/${late.id}/cancel`);
    assert.equal(tooLate.status, 409);
    assert.equal(tooLate.body.error.code, 'too_late');
    assert.match(tooLate.body.error.message, /until .* UTC, 20 minutes after renting; finish it instead/);
    assert.equal((await rentalOf(api, late.id)).status, 'active');

    const answered = await rentOk(api, countryId, 1);
    await pushSms(server, secret, answered.number, 'Your code is 777111');
    server.clock.advance(60);
    const afterSms = await api.post(`/api/v1/rentals/${answered.id}/cancel`);
    assert.equal(afterSms.status, 409);
    assert.equal(afterSms.body.error.code, 'too_late');
    assert.match(afterSms.body.error.message, /received an SMS/);
    assert.equal(await balanceOf(api), 9.6);
    await assertLedgerVerifies(server);
  });

  it('extends an active rental: charged now, expires_at moves; refused once it ended or expired', async () => {
    const countryId = await openMarket(server);
    await server.createProvider({ countryId, count: 2, rentable: true });
    const { apiKey } = await server.createCompany('3.5');
    const api = server.api(apiKey);
    const rental = await rentOk(api, countryId, 3);

    const extended = await api.post(`/api/v1/rentals/${rental.id}/extend`, { hours: 24 });
    assert.equal(extended.status, 200);
    const after = extended.body.data.rental;
    assert.deepEqual({ hours: after.hours, price: after.price, status: after.status }, { hours: 27, price: 3.1, status: 'active' });
    assert.equal(apiTimeMs(after.expires_at) - apiTimeMs(rental.expires_at), 24 * hourMs);
    assert.deepEqual(after.messages, []);
    assert.equal(await balanceOf(api), 0.4, '3.50 - 0.60 - 2.50');

    const broke = await api.post(`/api/v1/rentals/${rental.id}/extend`, { hours: 3 });
    assert.equal(broke.status, 402);
    assert.equal(broke.body.error.code, 'insufficient_balance');
    assert.equal((await rentalOf(api, rental.id)).hours, 27, 'a refused extension changes nothing');

    await api.post(`/api/v1/rentals/${rental.id}/finish`);
    const finished = await api.post(`/api/v1/rentals/${rental.id}/extend`, { hours: 1 });
    assert.equal(finished.status, 409);
    assert.equal(finished.body.error.code, 'invalid_state');
    assert.match(finished.body.error.message, /finished; only an active rental can be extended/);

    const second = await rentOk(api, countryId, 1);
    server.clock.advance(3600);
    const expired = await api.post(`/api/v1/rentals/${second.id}/extend`, { hours: 1 });
    assert.equal(expired.status, 409);
    assert.equal(expired.body.error.code, 'invalid_state');
    assert.match(expired.body.error.message, /expired at/);
    await assertLedgerVerifies(server);
  });

  it('expires rentals on time through the sweeper, frees the number and keeps later SMS away from the renter', async () => {
    const countryId = await openMarket(server);
    const { secret, numbers } = await server.createProvider({ countryId, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const rental = await rentOk(api, countryId, 2);
    await pushSms(server, secret, numbers[0], 'Code 111222');

    server.clock.advance(2 * 3600 - 1);
    await server.jobs.rentalExpiry.runOnce();
    assert.equal((await rentalOf(api, rental.id)).status, 'active', 'not before expires_at');

    server.clock.advance(1);
    const late = await pushSms(server, secret, numbers[0], 'Code 333444');
    assert.equal(late.body.data.activation_id, null);
    assert.equal(await server.jobs.rentalExpiry.runOnce(), 1);
    const expired = await rentalOf(api, rental.id);
    assert.equal(expired.status, 'expired');
    assert.match(expired.finished_at, apiTime);
    assert.deepEqual(expired.messages.map((m: { code: string }) => m.code), ['111222'], 'an SMS after expires_at is not the renter’s');
    assert.equal(await balanceOf(api), 9.6, 'expiry refunds nothing');
    assert.equal(await server.jobs.rentalExpiry.runOnce(), 0, 'a second sweep has nothing to do');

    const again = await rentOk(api, countryId, 1);
    assert.equal(again.number, numbers[0], 'the number is free to rent again');
    await assertLedgerVerifies(server);
  });

  it('ends a rental past expires_at as expired when it is finished before the sweeper came by', async () => {
    const countryId = await openMarket(server);
    await server.createProvider({ countryId, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const rental = await rentOk(api, countryId, 1);
    server.clock.advance(3600);
    const finished = await api.post(`/api/v1/rentals/${rental.id}/finish`);
    assert.equal(finished.status, 200);
    assert.equal(finished.body.data.rental.status, 'expired');
    const cancel = await api.post(`/api/v1/rentals/${rental.id}/cancel`);
    assert.equal(cancel.body.error.code, 'invalid_state');
  });
});
