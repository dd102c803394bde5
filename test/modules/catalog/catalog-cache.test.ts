import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPubSub, createServices } from '../../../src/app.ts';
import { cliActor } from '../../../src/modules/audit/audit.service.ts';
import { stockCountMaxAgeMs } from '../../../src/modules/supply/stock-count-cache.ts';
import { inProcessCli } from '../../support/cli-runner.ts';
import { type SignedInStaff, signInStaff } from '../../support/console-client.ts';
import { type ApiResponse, type TestServer, startTestServer } from '../../support/test-server.ts';
import { testRedisUrl, testTarget, uniqueName } from '../../support/test-target.ts';

/**
 * Services, countries and prices are served from each instance's memory, stock counts from a
 * short-lived per-instance copy (see README → Caches). What must hold all the same: a catalog
 * change made in the console, by the CLI or by an import shows in the very next answer and is
 * charged by the very next purchase, on every instance; the stock an instance shows is exact
 * after its own sales and at most `stockCountMaxAgeMs` behind other instances' sales.
 */

function dataOf(response: ApiResponse) {
  assert.equal(response.status, 200, `expected 200, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.ok, true);
  return response.body.data;
}

function assertError(response: ApiResponse, status: number, code: string) {
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.error.code, code);
}

let nextCountry = 700 + (process.pid % 100) * 10;

/** A country of its own (tg at `price` USD), so each test controls its stock and prices. */
async function openMarket(server: TestServer, price: number): Promise<number> {
  const countryId = nextCountry++;
  await server.services.catalog.upsertCountry({ id: countryId, name: `Cache market ${countryId}`, iso: `Q${countryId}`, dialPrefix: '1' });
  await server.services.catalog.setPrice({ serviceCode: 'tg', countryId, price: Math.round(price * 10_000) });
  return countryId;
}

async function buy(server: TestServer, apiKey: string, countryId: number, operator?: string) {
  const response = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: countryId, ...(operator ? { operator } : {}) });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body.data.activation as { id: number; price: number; number: string };
}

const balanceOf = async (server: TestServer, apiKey: string) => dataOf(await server.api(apiKey).get('/api/v1/balance')).balance as number;

describe('catalog and prices from memory, on one instance', { timeout: 180_000 }, () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let apiKey: string;

  before(async () => {
    server = await startTestServer();
    admin = await signInStaff(server, 'admin');
    apiKey = (await server.createCompany('100')).apiKey;
  });
  after(async () => {
    await server?.close();
  });

  const offer = async (countryId: number, service = 'tg') => dataOf(await server.api(apiKey).get(`/api/v1/prices?service=${service}&country=${countryId}`));

  it('answers repeated catalog reads from memory, and 50 concurrent /prices with one stock count', async () => {
    const countryId = await openMarket(server, 0.5);
    await server.createProvider({ countryId, count: 4 });
    const { catalog, supply } = server.services;
    assert.equal((await offer(countryId)).available, 4);
    const catalogLoads = catalog.catalogLoads();
    const stockLoads = supply.stockCountLoads();

    const api = server.api(apiKey);
    const reads = await Promise.all([
      ...Array.from({ length: 50 }, () => api.get(`/api/v1/prices?service=tg&country=${countryId}`)),
      api.get('/api/v1/services'),
      api.get('/api/v1/countries'),
      api.get('/api/v1/prices'),
      server.api().get('/api/web/prices'),
    ]);
    for (const response of reads) dataOf(response);
    assert.deepEqual(reads[0]!.body.data, { service: 'tg', country: countryId, price: 0.5, available: 4, in_stock: true });
    assert.equal(catalog.catalogLoads(), catalogLoads, 'the catalog came from memory');
    // The pair's count is reused; the full lists ask another question (one count, shared by both).
    assert.equal(supply.stockCountLoads() - stockLoads, 1, 'only the full price list was counted');

    // Past the bound, 50 requests at once cause one count between them.
    server.clock.advance(stockCountMaxAgeMs / 1000);
    const before = supply.stockCountLoads();
    const again = await Promise.all(Array.from({ length: 50 }, () => api.get(`/api/v1/prices?service=tg&country=${countryId}`)));
    for (const response of again) assert.equal(dataOf(response).available, 4);
    assert.equal(supply.stockCountLoads() - before, 1, 'one count for 50 concurrent requests');
    assert.equal(catalog.catalogLoads(), catalogLoads);
  });

  it('answers from memory exactly as after a database read: the same row, the same table, the same refusals', async () => {
    const countryId = await openMarket(server, 0.75);
    await server.createProvider({ countryId, count: 3 });
    const { catalog, supply } = server.services;
    const api = server.api(apiKey);
    const paths = [
      `/api/v1/prices?service=tg&country=${countryId}`,
      `/api/v1/prices?country=${countryId}`,
      `/api/v1/prices?service=tg`,
      `/api/v1/prices?service=nosuchservice&country=${countryId}`,
      `/api/v1/prices?service=tg&country=${countryId + 5000}`,
    ];
    const answers = async () =>
      Promise.all(
        paths.map(async (path) => {
          const { status, body } = await api.get(path);
          return { path, status, body };
        }),
      );
    // The market just changed the catalog: these first answers read it, and count the stock, anew.
    const loadsBefore = { catalog: catalog.catalogLoads(), stock: supply.stockCountLoads() };
    const first = await answers();
    assert.ok(catalog.catalogLoads() > loadsBefore.catalog, 'the first answers read the catalog');
    const loads = { catalog: catalog.catalogLoads(), stock: supply.stockCountLoads() };
    const fromMemory = await answers();
    assert.deepEqual(fromMemory, first);
    assert.deepEqual({ catalog: catalog.catalogLoads(), stock: supply.stockCountLoads() }, loads, 'the second answers came from memory');
    assert.deepEqual(first[0]!.body.data, { service: 'tg', country: countryId, price: 0.75, available: 3, in_stock: true });
    assert.deepEqual([first[3]!.status, first[3]!.body.error.code], [404, 'unknown_service']);
    assert.deepEqual([first[4]!.status, first[4]!.body.error.code], [404, 'unknown_country']);
  });

  it('shows a price set in the console in the very next answer, and charges it on the very next purchase', async () => {
    const countryId = await openMarket(server, 1);
    await server.createProvider({ countryId, count: 3, operator: 'alpha' });
    assert.equal((await offer(countryId)).price, 1);

    dataOf(await admin.client.post('/pricing/price', { service: 'tg', country: countryId, price: 1.25 }));
    assert.equal((await offer(countryId)).price, 1.25, 'no wait: the console answered after the change was announced');
    const balance = await balanceOf(server, apiKey);
    const bought = await buy(server, apiKey, countryId);
    assert.equal(bought.price, 1.25);
    assert.equal(await balanceOf(server, apiKey), balance - 1.25);

    // An operator's own price, and its removal, apply to the next purchase naming that operator.
    dataOf(await admin.client.post('/pricing/price', { service: 'tg', country: countryId, price: 1.4, operator: 'alpha' }));
    assert.equal((await buy(server, apiKey, countryId, 'alpha')).price, 1.4);
    dataOf(await admin.client.post('/pricing/operator-price/remove', { service: 'tg', country: countryId, operator: 'alpha' }));
    assert.equal((await buy(server, apiKey, countryId, 'alpha')).price, 1.25);
  });

  it('shows a price set by the CLI (price:set, catalog:import) in the very next answer', async () => {
    const countryId = await openMarket(server, 2);
    assert.equal((await offer(countryId)).price, 2);
    const cli = inProcessCli(server.services);
    await cli.json(['price:set', '--service', 'tg', '--country', String(countryId), '--price', '2.10']);
    assert.equal((await offer(countryId)).price, 2.1);

    await cli.json(['service:add', '--code', 'cc', '--name', 'Cache Chat']);
    assert.ok(dataOf(await server.api(apiKey).get('/api/v1/services')).services.some((s: { code: string }) => s.code === 'cc'));
    const imported = await server.services.catalog.importCatalog(cliActor, {
      content: [`price,tg,${countryId},2.20`, `price,cc,${countryId},0.90`].join('\n'),
      format: 'csv',
    });
    assert.equal(imported.applied, true);
    assert.equal((await offer(countryId)).price, 2.2);
    assert.equal((await offer(countryId, 'cc')).price, 0.9);

    // A dry run rolls back: nothing announced, nothing changed.
    const loads = server.services.catalog.catalogLoads();
    await server.services.catalog.importCatalog(cliActor, { content: `price,tg,${countryId},9.99`, format: 'csv', dryRun: true });
    assert.equal((await offer(countryId)).price, 2.2);
    assert.equal(server.services.catalog.catalogLoads(), loads, 'a dry run does not drop the copy');
  });

  it('takes a disabled service, country or operator out of the very next answer and refuses to sell it', async () => {
    const countryId = await openMarket(server, 0.5);
    await server.createProvider({ countryId, count: 3, operator: 'beta' });
    dataOf(await admin.client.post('/catalog/operators', { country: countryId, code: 'beta', name: 'Beta' }));
    const api = server.api(apiKey);
    const listed = async () => ({
      services: dataOf(await api.get('/api/v1/services')).services.map((s: { code: string }) => s.code) as string[],
      countries: dataOf(await api.get('/api/v1/countries')).countries.map((c: { id: number }) => c.id) as number[],
      pairs: dataOf(await api.get('/api/v1/prices')).prices.map((p: { service: string; country: number }) => `${p.service}:${p.country}`) as string[],
    });
    dataOf(await admin.client.post('/catalog/services', { code: 'dd', name: 'Disabled Soon' }));
    dataOf(await admin.client.post('/pricing/price', { service: 'dd', country: countryId, price: 0.3 }));
    const before = await listed();
    assert.ok(before.services.includes('dd') && before.countries.includes(countryId) && before.pairs.includes(`dd:${countryId}`));

    dataOf(await admin.client.post('/catalog/services/dd', { enabled: false }));
    const noService = await listed();
    assert.ok(!noService.services.includes('dd') && !noService.pairs.includes(`dd:${countryId}`), JSON.stringify(noService));
    assertError(await api.get(`/api/v1/prices?service=dd&country=${countryId}`), 404, 'unknown_service');
    assertError(await api.post('/api/v1/activations', { service_code: 'dd', country_id: countryId }), 404, 'unknown_service');

    // An operator switched off is not sold, though its numbers are in stock.
    assert.equal((await buy(server, apiKey, countryId, 'beta')).price, 0.5);
    dataOf(await admin.client.post(`/catalog/operators/${countryId}/beta`, { enabled: false }));
    assertError(await api.post('/api/v1/activations', { service_code: 'tg', country_id: countryId, operator: 'beta' }), 409, 'out_of_stock');

    dataOf(await admin.client.post(`/catalog/countries/${countryId}`, { enabled: false }));
    const noCountry = await listed();
    assert.ok(!noCountry.countries.includes(countryId) && !noCountry.pairs.includes(`tg:${countryId}`), JSON.stringify(noCountry));
    assertError(await api.get(`/api/v1/prices?service=tg&country=${countryId}`), 404, 'unknown_country');
    assertError(await api.post('/api/v1/activations', { service_code: 'tg', country_id: countryId }), 404, 'unknown_country');

    // And back on sale at once.
    dataOf(await admin.client.post(`/catalog/countries/${countryId}`, { enabled: true }));
    dataOf(await admin.client.post('/catalog/services/dd', { enabled: true }));
    assert.deepEqual(await offer(countryId, 'dd'), { service: 'dd', country: countryId, price: 0.3, available: 2, in_stock: true });
  });

  it('shows a sale, a finish and added numbers of this instance in its very next stock count', async () => {
    const countryId = await openMarket(server, 0.5);
    await server.services.catalog.setPrice({ serviceCode: 'wa', countryId, price: 7000 });
    const { providerId } = await server.createProvider({ countryId, count: 2 });
    const stock = async () => [(await offer(countryId)).available, (await offer(countryId, 'wa')).available];
    assert.deepEqual(await stock(), [2, 2]);
    const sold = await buy(server, apiKey, countryId);
    // A busy number is free for no service.
    assert.deepEqual(await stock(), [1, 1]);
    server.clock.advance(181);
    dataOf(await server.api(apiKey).post(`/api/v1/activations/${sold.id}/cancel`));
    // Free again at once, for every service but the one it was sold for.
    assert.deepEqual(await stock(), [1, 2]);
    await server.services.supply.addNumbers(providerId, [{ e164: `+1${countryId}5550199`, countryId }]);
    assert.deepEqual(await stock(), [2, 3]);
  });
});

describe('stock counts of another instance', { timeout: 180_000 }, () => {
  let a: TestServer;
  let b: TestServer;
  let apiKey: string;

  before(async () => {
    a = await startTestServer();
    // One database, one clock; the second instance reads stock on its own.
    b = await startTestServer({ database: a.database, clock: a.clock });
    apiKey = (await a.createCompany('20')).apiKey;
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  it(`shows a sale made on another instance within ${stockCountMaxAgeMs} ms`, async () => {
    const countryId = await openMarket(a, 0.5);
    await a.createProvider({ countryId, count: 3 });
    const stockOn = async (server: TestServer) => dataOf(await server.api(apiKey).get(`/api/v1/prices?service=tg&country=${countryId}`)).available;
    assert.equal(await stockOn(b), 3);
    const loads = b.services.supply.stockCountLoads();

    await buy(a, apiKey, countryId);
    assert.equal(await stockOn(a), 2, 'exact at once where it was sold');
    // Within the bound the other instance may still show its count from before the sale...
    assert.equal(await stockOn(b), 3);
    assert.equal(b.services.supply.stockCountLoads(), loads);
    // ...and never past it.
    a.clock.advance(stockCountMaxAgeMs / 1000);
    assert.equal(await stockOn(b), 2);
  });
});

const twoInstancesSkip =
  testTarget !== 'postgres' ? 'several instances sharing Redis run on PostgreSQL (NOVA_TEST_TARGET=postgres)' : testRedisUrl ? false : 'needs NOVA_TEST_REDIS_URL';

describe('catalog changes across instances (PostgreSQL + Redis)', { skip: twoInstancesSkip, timeout: 180_000 }, () => {
  let a: TestServer;
  let b: TestServer;
  let admin: SignedInStaff;
  let apiKey: string;
  const redisKeyPrefix = uniqueName('nova_catalog');

  before(async () => {
    a = await startTestServer({ redisKeyPrefix });
    b = await startTestServer({ database: a.database, clock: a.clock, redisKeyPrefix });
    admin = await signInStaff(a, 'admin');
    apiKey = (await a.createCompany('50')).apiKey;
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  const offerOn = async (server: TestServer, countryId: number) => dataOf(await server.api(apiKey).get(`/api/v1/prices?service=tg&country=${countryId}`));

  it("shows a price changed in instance A's console in B's very next answer, and B charges it on the very next purchase", async () => {
    const countryId = await openMarket(a, 1);
    await a.createProvider({ countryId, count: 3 });
    // B holds the catalog in memory (the seeding writes were announced too).
    assert.equal((await offerOn(b, countryId)).price, 1);
    const loads = b.services.catalog.catalogLoads();
    assert.equal((await offerOn(b, countryId)).price, 1);
    assert.equal(b.services.catalog.catalogLoads(), loads, 'B answers from memory');

    dataOf(await admin.client.post('/pricing/price', { service: 'tg', country: countryId, price: 1.5 }));
    assert.equal((await offerOn(b, countryId)).price, 1.5);
    assert.equal((await buy(b, apiKey, countryId)).price, 1.5);

    dataOf(await admin.client.post('/catalog/services/wa', { enabled: false }));
    try {
      const services = dataOf(await b.api(apiKey).get('/api/v1/services')).services.map((s: { code: string }) => s.code);
      assert.ok(!services.includes('wa'), JSON.stringify(services));
      assertError(await b.api(apiKey).post('/api/v1/activations', { service_code: 'wa', country_id: countryId }), 404, 'unknown_service');
    } finally {
      dataOf(await admin.client.post('/catalog/services/wa', { enabled: true }));
    }
    assert.ok(dataOf(await b.api(apiKey).get('/api/v1/services')).services.some((s: { code: string }) => s.code === 'wa'));
  });

  it('shows a price set by an operator CLI process (its own services, same Redis) on every instance at once', async () => {
    const countryId = await openMarket(a, 3);
    assert.deepEqual([(await offerOn(a, countryId)).price, (await offerOn(b, countryId)).price], [3, 3]);
    // What src/cli/nova.ts builds: its own services and bus, on the servers' database and Redis.
    const pubsub = createPubSub(a.config, redisKeyPrefix);
    try {
      const cliServices = createServices({ config: a.config, database: a.database, clock: a.clock, pubsub });
      await inProcessCli(cliServices).json(['price:set', '--service', 'tg', '--country', String(countryId), '--price', '3.30']);
    } finally {
      await pubsub.close();
    }
    assert.deepEqual([(await offerOn(a, countryId)).price, (await offerOn(b, countryId)).price], [3.3, 3.3]);
  });
});
