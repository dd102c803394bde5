import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inProcessCli } from '../../support/cli-runner.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { openMarket, rentalOf, rentOk } from './rental-support.ts';

describe('operating rentals: the operator CLI', () => {
  let server: TestServer;
  let cli: ReturnType<typeof inProcessCli>;

  before(async () => {
    server = await startTestServer();
    cli = inProcessCli(server.services);
  });
  after(() => server.close());

  it('sets rental prices per hour and per day (country and operator), audited as the CLI, and customers see them', async () => {
    const countryId = await openMarket(server, { rentalPrice: false });
    const set = await cli.json(['rental-price:set', '--country', String(countryId), '--hour', '0.20', '--day', '2.50']);
    assert.deepEqual(set, { country: countryId, operator: 'any', price_per_hour: 0.2, price_per_day: 2.5, available: 0 });
    await cli.json(['rental-price:set', '--country', String(countryId), '--operator', 'fastnet', '--hour', '0.3', '--day', '3']);
    // Setting it again replaces it.
    await cli.json(['rental-price:set', '--country', String(countryId), '--hour', '0.25', '--day', '2.75']);

    const { apiKey } = await server.createCompany('1');
    const prices = (await server.api(apiKey).get(`/api/v1/rentals/prices?country=${countryId}`)).body.data.prices;
    assert.deepEqual(
      prices.map((p: { operator: string; price_per_hour: number; price_per_day: number }) => [p.operator, p.price_per_hour, p.price_per_day]),
      [
        ['any', 0.25, 2.75],
        ['fastnet', 0.3, 3],
      ],
    );
    const audited = await server.services.audit.list({ action: 'rental_price.set', targetId: `${countryId}:any`, limit: 10 });
    assert.equal(audited.length, 2);
    assert.equal(audited[0].actor, 'cli');
    assert.deepEqual(audited[0].before, { price_per_hour: 0.2, price_per_day: 2.5 });
    assert.deepEqual(audited[0].after, { price_per_hour: 0.25, price_per_day: 2.75 });
  });

  it('refuses bad rental prices with a clear message', async () => {
    const countryId = await openMarket(server, { rentalPrice: false });
    assert.match(await cli.refused(['rental-price:set', '--country', String(countryId), '--hour', '0', '--day', '2'], 'invalid_request'), /--hour "0"/);
    assert.match(await cli.refused(['rental-price:set', '--country', String(countryId), '--hour', '0.2'], 'invalid_request'), /--day is required/);
    assert.match(await cli.refused(['rental-price:set', '--country', String(countryId), '--hour', '0.00001', '--day', '2'], 'invalid_request'), /at most 4 decimals/);
    assert.match(await cli.refused(['rental-price:set', '--country', '99999', '--hour', '0.2', '--day', '2'], 'unknown_country'), /Unknown country 99999/);
    assert.match(await cli.refused(['rental-price:set', '--country', String(countryId), '--operator', 'bad op!', '--hour', '0.2', '--day', '2'], 'invalid_request'), /Operator/);
    assert.equal((await server.services.rentals.prices(countryId)).length, 0, 'nothing was set');
  });

  it('adds rentable numbers with numbers:add --rentable, and makes numbers already in stock rentable', async () => {
    const countryId = await openMarket(server);
    const { provider } = await server.services.supply.createProvider({ name: `cli-rental-${countryId}`, kind: 'http' });
    const plain = await cli.json(['numbers:add', '--provider', String(provider.id), '--country', String(countryId), '+12025550901', '+12025550902']);
    assert.deepEqual(plain, { added: 2, rentable: false });
    assert.equal((await server.services.rentals.prices(countryId))[0].available, 0, 'numbers are not rentable unless marked');

    const rentable = await cli.json(['numbers:add', '--provider', String(provider.id), '--country', String(countryId), '--rentable', '+12025550902', '+12025550903']);
    assert.deepEqual(rentable, { added: 1, rentable: true });
    assert.equal((await server.services.rentals.prices(countryId))[0].available, 2);

    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const first = await rentOk(api, countryId, 1);
    const second = await rentOk(api, countryId, 1);
    assert.deepEqual([first.number, second.number].sort(), ['+12025550902', '+12025550903']);
    const none = await api.post('/api/v1/rentals', { country_id: countryId, hours: 1 });
    assert.equal(none.body.error.code, 'out_of_stock');
  });
});

describe('operating rentals: the embedded demo', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ env: { NOVA_DEMO: '1', NOVA_DEMO_SMS_DELAY_S: '2' } });
  });
  after(() => server.close());

  it('rents demo numbers out of the box, and a rented demo number receives an SMS after the delay', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const prices = (await api.get('/api/v1/rentals/prices?country=6')).body.data.prices;
    assert.deepEqual(prices, [{ country: 6, operator: 'any', price_per_hour: 0.2, price_per_day: 2.5, available: 24 }]);
    const rental = await rentOk(api, 6, 1);
    assert.match(rental.number, /^\+1202555\d{4}$/);

    server.clock.advance(1);
    await server.jobs.demoSms!.runOnce();
    assert.deepEqual((await rentalOf(api, rental.id)).messages, [], 'not before the delay');
    server.clock.advance(1);
    await server.jobs.demoSms!.runOnce();
    await server.jobs.demoSms!.runOnce();
    const messages = (await rentalOf(api, rental.id)).messages;
    assert.equal(messages.length, 1, 'one SMS per rental');
    assert.match(messages[0].code, /^\d{6}$/);
    assert.ok(messages[0].text.includes(messages[0].code));
  });
});
