import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { apiTimeMs, assertLedgerVerifies, openMarket, pushSms } from '../rentals/rental-support.ts';

type Params = Record<string, string>;

const hourMs = 3600 * 1000;
/** API time, as the protocol's dates are sent here: "2026-06-02 10:20:00" (UTC). */
const apiTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/*
 * The sms-activate rental actions over real HTTP (issue 11). No npm client of the protocol that
 * covers rentals can be installed (see the report), so these are raw requests in the protocol's
 * exact formats, the way its clients send them.
 */
describe('sms-activate compatibility: renting numbers (/stubs/handler_api.php)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function call(params: Params, method: 'GET' | 'POST' = 'GET') {
    const url = `${server.url}/stubs/handler_api.php`;
    const response =
      method === 'GET'
        ? await fetch(`${url}?${new URLSearchParams(params)}`)
        : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  }

  /** One request → its JSON reply (HTTP 200, application/json). */
  async function jsonOf(params: Params, method: 'GET' | 'POST' = 'GET') {
    const reply = await call(params, method);
    const label = `${method} ${JSON.stringify({ ...params, api_key: params.api_key ? '…' : undefined })}`;
    assert.equal(reply.status, 200, label);
    assert.match(reply.type, /^application\/json/, `${label}: ${reply.text}`);
    return JSON.parse(reply.text);
  }

  async function expectJson(params: Params, expected: unknown, method: 'GET' | 'POST' = 'GET') {
    const label = `${method} ${JSON.stringify({ ...params, api_key: params.api_key ? '…' : undefined })}`;
    assert.deepEqual(await jsonOf(params, method), expected, label);
  }

  const refused = (message: string) => ({ status: 'error', message });

  async function balance(key: string) {
    const reply = await call({ api_key: key, action: 'getBalance' });
    return reply.text;
  }

  async function rent(key: string, params: Params) {
    const body = await jsonOf({ api_key: key, action: 'getRentNumber', ...params });
    assert.equal(body.status, 'success', JSON.stringify(body));
    return body.phone as { id: number; endDate: string; number: string };
  }

  async function v1Rental(key: string, id: number) {
    const response = await server.api(key).get(`/api/v1/rentals/${id}`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.data.rental;
  }

  it('rents a number for rent_time hours, shows every SMS to it, extends it for a charge and finishes it', async () => {
    const countryId = await openMarket(server);
    const { secret, numbers } = await server.createProvider({ countryId, count: 2, rentable: true });
    const { apiKey: key } = await server.createCompany('10');

    // 3 hours at 0.20 an hour.
    const phone = await rent(key, { service: 'tg', country: String(countryId), rent_time: '3' });
    assert.equal(typeof phone.id, 'number');
    assert.ok(numbers.includes(`+${phone.number}`), 'the number is one of the rentable ones, sent without "+"');
    const rental = await v1Rental(key, phone.id);
    assert.equal(rental.number, `+${phone.number}`);
    assert.equal(rental.status, 'active');
    assert.equal(phone.endDate, rental.expires_at);
    assert.equal(phone.endDate, apiTime(apiTimeMs(rental.created_at) + 3 * hourMs));
    assert.equal(await balance(key), 'ACCESS_BALANCE:9.40');

    // No SMS yet, then two, from any sender: oldest first, with the times API v1 shows.
    await expectJson({ api_key: key, action: 'getRentStatus', id: String(phone.id) }, refused('STATUS_WAIT_CODE'));
    await pushSms(server, secret, `+${phone.number}`, 'Telegram code: 40321');
    server.clock.advance(30);
    await pushSms(server, secret, `+${phone.number}`, 'Your WhatsApp code is 552-901', 'WhatsApp');
    const [newest, oldest] = (await v1Rental(key, phone.id)).messages;
    await expectJson({ api_key: key, action: 'getRentStatus', id: String(phone.id) }, {
      status: 'success',
      quantity: '2',
      values: {
        '0': { phoneFrom: 'Telegram', text: 'Telegram code: 40321', service: 'full', date: oldest.received_at },
        '1': { phoneFrom: 'WhatsApp', text: 'Your WhatsApp code is 552-901', service: 'full', date: newest.received_at },
      },
    });
    await expectJson({ api_key: key, action: 'getRentList' }, { status: 'success', values: { '0': { id: String(phone.id), phone: phone.number } } });

    // Extending: 2 hours (0.40), then the protocol's default of 4 (0.80); the end moves each time.
    await expectJson({ api_key: key, action: 'continueRentNumber', id: String(phone.id), rent_time: '2' }, {
      status: 'success',
      phone: { id: phone.id, endDate: apiTime(apiTimeMs(phone.endDate) + 2 * hourMs), number: phone.number },
    });
    assert.equal(await balance(key), 'ACCESS_BALANCE:9.00');
    await expectJson({ api_key: key, action: 'continueRentNumber', id: String(phone.id) }, {
      status: 'success',
      phone: { id: phone.id, endDate: apiTime(apiTimeMs(phone.endDate) + 6 * hourMs), number: phone.number },
    });
    assert.equal(await balance(key), 'ACCESS_BALANCE:8.20');
    const extended = await v1Rental(key, phone.id);
    assert.equal(extended.hours, 9);
    assert.equal(extended.price, 1.8);

    // After an SMS a cancel is refused; finishing (status 1, sent as a form) ends it without refund.
    await expectJson({ api_key: key, action: 'setRentStatus', id: String(phone.id), status: '2' }, refused('CANT_CANCEL'));
    assert.equal((await v1Rental(key, phone.id)).status, 'active');
    await expectJson({ api_key: key, action: 'setRentStatus', id: String(phone.id), status: '1' }, { status: 'success' }, 'POST');
    assert.equal((await v1Rental(key, phone.id)).status, 'finished');
    assert.equal(await balance(key), 'ACCESS_BALANCE:8.20');

    // Ended: every action says so in the protocol's words.
    await expectJson({ api_key: key, action: 'getRentStatus', id: String(phone.id) }, refused('STATUS_FINISH'));
    await expectJson({ api_key: key, action: 'setRentStatus', id: String(phone.id), status: '1' }, refused('ALREADY_FINISH'));
    await expectJson({ api_key: key, action: 'setRentStatus', id: String(phone.id), status: '2' }, refused('ALREADY_FINISH'));
    await expectJson({ api_key: key, action: 'continueRentNumber', id: String(phone.id), rent_time: '1' }, refused('RENT_DIE'));
    assert.equal(await balance(key), 'ACCESS_BALANCE:8.20');
    await expectJson({ api_key: key, action: 'getRentList' }, refused('NO_NUMBERS'));
    await assertLedgerVerifies(server);
  });

  it('cancels a rental with a full refund within 20 minutes and before any SMS, and refuses later', async () => {
    const countryId = await openMarket(server);
    await server.createProvider({ countryId, count: 2, rentable: true });
    const { apiKey: key } = await server.createCompany('10');

    // 25 hours: a day (2.50) and an hour (0.20); `time` is read as rent_time too.
    const first = await rent(key, { service: 'full', country: String(countryId), time: '25' });
    assert.equal(await balance(key), 'ACCESS_BALANCE:7.30');
    server.clock.advance(19 * 60);
    await expectJson({ api_key: key, action: 'setRentStatus', id: String(first.id), status: '2' }, { status: 'success' });
    assert.equal(await balance(key), 'ACCESS_BALANCE:10.00', 'everything charged comes back');
    assert.equal((await v1Rental(key, first.id)).status, 'cancelled');
    await expectJson({ api_key: key, action: 'getRentStatus', id: String(first.id) }, refused('STATUS_CANCEL'));
    await expectJson({ api_key: key, action: 'setRentStatus', id: String(first.id), status: '2' }, refused('ALREADY_CANCEL'));
    await expectJson({ api_key: key, action: 'setRentStatus', id: String(first.id), status: '1' }, refused('ALREADY_CANCEL'));
    await expectJson({ api_key: key, action: 'continueRentNumber', id: String(first.id) }, refused('RENT_DIE'));
    assert.equal(await balance(key), 'ACCESS_BALANCE:10.00', 'refunded once');

    // 20 minutes after renting it is too late, SMS or not: the rental goes on, charged.
    const second = await rent(key, { country: String(countryId), rent_time: '1' });
    server.clock.advance(20 * 60);
    await expectJson({ api_key: key, action: 'setRentStatus', id: String(second.id), status: '2' }, refused('CANT_CANCEL'));
    assert.equal((await v1Rental(key, second.id)).status, 'active');
    assert.equal(await balance(key), 'ACCESS_BALANCE:9.80');
    await assertLedgerVerifies(server);
  });

  it('refuses bad keys, unknown or foreign ids, bad times, no stock and no money in the protocol’s words, charging nothing', async () => {
    const countryId = await openMarket(server);
    const { numbers } = await server.createProvider({ countryId, count: 1, rentable: true, operator: 'fastnet' });
    // Numbers sold as activations only, and a country without rental prices: nothing to rent.
    await server.createProvider({ countryId: 6, count: 2, rentable: true });
    const emptyMarket = await openMarket(server);
    await server.createProvider({ countryId: emptyMarket, count: 2 });
    const { apiKey: key } = await server.createCompany('10');
    const stranger = await server.createCompany('10');
    const country = String(countryId);

    // Keys: the protocol's plain-text BAD_KEY, before any action.
    for (const params of [{ action: 'getRentNumber', country }, { api_key: 'nova_not_a_key', action: 'getRentList' }] as Params[]) {
      const reply = await call(params);
      assert.equal(reply.status, 200);
      assert.match(reply.type, /^text\/plain/);
      assert.equal(reply.text, 'BAD_KEY');
    }

    // Not offered: the price of an extension (continueRentNumber charges the rental price).
    assert.equal((await call({ api_key: key, action: 'getContinueRentPriceNumber', id: '1' })).text, 'BAD_ACTION');

    // Renting.
    const getRentNumber = (params: Params) => ({ api_key: key, action: 'getRentNumber', ...params });
    await expectJson(getRentNumber({ country, service: 'zz' }), refused('BAD_SERVICE'));
    for (const rentTime of ['0', '721', 'four', '4.5', '-3']) {
      await expectJson(getRentNumber({ country, rent_time: rentTime }), refused('INVALID_TIME'));
    }
    await expectJson(getRentNumber({ country: '99999' }), refused('NO_NUMBERS'));
    await expectJson(getRentNumber({ country: '100000000000' }), refused('NO_NUMBERS'));
    await expectJson(getRentNumber({ country: 'usa' }), refused('NO_NUMBERS'));
    await expectJson(getRentNumber({}), refused('NO_NUMBERS'));
    await expectJson(getRentNumber({ country: '6' }), refused('NO_NUMBERS'));
    await expectJson(getRentNumber({ country: String(emptyMarket) }), refused('NO_NUMBERS'));
    await expectJson(getRentNumber({ country, operator: 'slownet' }), refused('NO_NUMBERS'));
    const poor = await server.createCompany('0.5');
    await expectJson({ api_key: poor.apiKey, action: 'getRentNumber', country, rent_time: '3' }, refused('NO_BALANCE'));
    assert.equal(await balance(poor.apiKey), 'ACCESS_BALANCE:0.50');
    assert.equal(await balance(key), 'ACCESS_BALANCE:10.00');

    // A comma list of operators rents on the first that has a number.
    const phone = await rent(key, { country, operator: 'slownet,fastnet', rent_time: '1' });
    assert.equal(phone.number, numbers[0].slice(1));
    assert.equal((await v1Rental(key, phone.id)).operator, 'fastnet');
    const id = String(phone.id);
    await expectJson(getRentNumber({ country }), refused('NO_NUMBERS'), 'POST');

    // Ids: missing, malformed, unknown, someone else's.
    for (const action of ['getRentStatus', 'setRentStatus', 'continueRentNumber']) {
      await expectJson({ api_key: key, action, status: '1' }, refused('NO_ID_RENT'));
      await expectJson({ api_key: key, action, status: '1', id: '' }, refused('NO_ID_RENT'));
      await expectJson({ api_key: key, action, status: '1', id: 'abc' }, refused('INVALID_PHONE'));
      await expectJson({ api_key: key, action, status: '1', id: '99999999' }, refused('INVALID_PHONE'));
      await expectJson({ api_key: stranger.apiKey, action, status: '1', id }, refused('INVALID_PHONE'));
    }
    await expectJson({ api_key: stranger.apiKey, action: 'getRentList' }, refused('NO_NUMBERS'));
    await expectJson({ api_key: key, action: 'setRentStatus', id }, refused('INCORECT_STATUS'));
    await expectJson({ api_key: key, action: 'setRentStatus', id, status: '3' }, refused('INCORECT_STATUS'));
    await expectJson({ api_key: key, action: 'continueRentNumber', id, rent_time: '0' }, refused('INVALID_TIME'));
    assert.equal((await v1Rental(key, phone.id)).status, 'active', 'the stranger could neither finish nor cancel it');
    assert.equal(await balance(key), 'ACCESS_BALANCE:9.80');
    assert.equal(await balance(stranger.apiKey), 'ACCESS_BALANCE:10.00', 'nor extend it at its own cost');

    // Extending without the money for it.
    const short = await server.createCompany('0.7');
    const { numbers: more } = await server.createProvider({ countryId, count: 1, rentable: true });
    const own = await rent(short.apiKey, { country, rent_time: '3' });
    assert.equal(own.number, more[0].slice(1));
    await expectJson({ api_key: short.apiKey, action: 'continueRentNumber', id: String(own.id), rent_time: '1' }, refused('NO_BALANCE'));
    assert.equal(await balance(short.apiKey), 'ACCESS_BALANCE:0.10');
    assert.equal((await v1Rental(short.apiKey, own.id)).hours, 3);
    await assertLedgerVerifies(server);
  });

  it('lists the active rentals the key sees: the whole company for its owner, a member’s own for a member', async () => {
    const countryId = await openMarket(server);
    await server.createProvider({ countryId, count: 5, rentable: true });
    const owner = await server.createCompany('10');
    const member = await server.addMember(owner.companyId);
    const stranger = await server.createCompany('10');
    const country = String(countryId);

    await expectJson({ api_key: owner.apiKey, action: 'getRentList' }, refused('NO_NUMBERS'));
    const a = await rent(owner.apiKey, { country, rent_time: '1' });
    const b = await rent(member.apiKey, { country, rent_time: '1' });
    const ended = await rent(owner.apiKey, { country, rent_time: '1' });
    await expectJson({ api_key: owner.apiKey, action: 'setRentStatus', id: String(ended.id), status: '1' }, { status: 'success' });
    await rent(stranger.apiKey, { country, rent_time: '1' });

    await expectJson({ api_key: owner.apiKey, action: 'getRentList' }, {
      status: 'success',
      values: { '0': { id: String(b.id), phone: b.number }, '1': { id: String(a.id), phone: a.number } },
    });
    await expectJson({ api_key: member.apiKey, action: 'getRentList' }, { status: 'success', values: { '0': { id: String(b.id), phone: b.number } } });
    // A member cannot reach the owner's rental; the owner reaches the member's.
    await expectJson({ api_key: member.apiKey, action: 'getRentStatus', id: String(a.id) }, refused('INVALID_PHONE'));
    await expectJson({ api_key: owner.apiKey, action: 'getRentStatus', id: String(b.id) }, refused('STATUS_WAIT_CODE'));
  });

  it('shows rental countries, operators, and one price and count for every service for rent_time hours', async () => {
    const countryId = await openMarket(server);
    await server.services.rentals.setPrice({ countryId, operator: 'fastnet', pricePerHour: 3000, pricePerDay: 30_000 });
    await server.createProvider({ countryId, count: 3, rentable: true });
    await server.createProvider({ countryId, count: 2, rentable: true, operator: 'fastnet' });
    // Not rentable: sold as activations only.
    await server.createProvider({ countryId, count: 4 });
    const { apiKey: key } = await server.createCompany('10');
    const country = String(countryId);
    const offer = (cost: number, quant: number) => ({ full: { cost, quant }, tg: { cost, quant }, wa: { cost, quant } });

    const listing = await jsonOf({ api_key: key, action: 'getRentServicesAndCountries', country });
    const countries = Object.values(listing.countries) as number[];
    assert.ok(countries.includes(countryId));
    assert.ok(!countries.includes(6), 'a country without a rental price is not listed');
    assert.deepEqual(Object.keys(listing.countries), countries.map((_, index) => String(index)));
    assert.deepEqual(countries, [...countries].sort((x, y) => x - y));
    // The default 4 hours at 0.20: 0.80, 5 free rentable numbers, the same for every service.
    assert.deepEqual(listing, { countries: listing.countries, operators: { '0': 'any', '1': 'fastnet' }, services: offer(0.8, 5), currency: 840 });

    const servicesOf = async (params: Params) => (await jsonOf({ api_key: key, action: 'getRentServicesAndCountries', country, ...params })).services;
    assert.deepEqual(await servicesOf({ rent_time: '24' }), offer(2.5, 5));
    assert.deepEqual(await servicesOf({ rent_time: '25' }), offer(2.7, 5));
    assert.deepEqual(await servicesOf({ rent_time: '4', operator: 'fastnet' }), offer(1.2, 2));
    assert.deepEqual(await servicesOf({ operator: 'any' }), offer(0.8, 5));
    await expectJson({ api_key: key, action: 'getRentServicesAndCountries', country, rent_time: '0' }, refused('INVALID_TIME'));

    // Renting on fastnet costs its own price and takes one of its numbers from the counts.
    const phone = await rent(key, { country, operator: 'fastnet' });
    assert.equal((await v1Rental(key, phone.id)).price, 1.2);
    assert.deepEqual(await servicesOf({}), offer(0.8, 4));
    assert.deepEqual(await servicesOf({ operator: 'fastnet' }), offer(1.2, 1));

    // Countries without rental prices, or unknown: no services, the rental countries still listed.
    for (const other of ['6', '99999', 'usa']) {
      const body = await jsonOf({ api_key: key, action: 'getRentServicesAndCountries', country: other });
      assert.deepEqual(body, { countries: listing.countries, operators: { '0': 'any' }, services: {}, currency: 840 });
    }

    // getCountries says where renting is possible.
    const table = await jsonOf({ api_key: key, action: 'getCountries' });
    assert.equal(table[country].rent, 1);
    assert.equal(table['6'].rent, 0);
  });
});
