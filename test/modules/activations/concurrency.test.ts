import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findActivation } from '../../../src/modules/activations/activations.repo.ts';
import { startTestServer, type ApiClient, type ApiResponse, type TestServer } from '../../support/test-server.ts';

/**
 * Races through the real HTTP edge: many requests in flight at once against one server (and two
 * servers on one database), checking that money and numbers are never lost, sold twice or
 * refunded twice. On PostgreSQL the transactions really overlap; on PGlite they queue on its one
 * connection, so there the same tests check the rules under interleaved requests.
 */

const lifetimeSeconds = 1200;
const cancelAfterSeconds = 180;
// Many activations here expire without SMS on purpose; the provider must stay on sale (see provider-auto-disable.test.ts).
const maxProviderFailures = 1000;

let server: TestServer;
let marketCounter = 0;

before(async () => {
  server = await startTestServer({
    env: { NOVA_ACTIVATION_LIFETIME_S: String(lifetimeSeconds), NOVA_CANCEL_AFTER_S: String(cancelAfterSeconds), NOVA_PROVIDER_MAX_FAILURES: String(maxProviderFailures) },
  });
});

after(async () => {
  await server?.close();
});

/**
 * A country of its own for one test (tg 0.50, wa 0.75), so the stock a test counts holds only
 * the numbers that test added: stock is per country, and the tests share one server.
 */
async function openMarket(): Promise<number> {
  const countryId = 900 + ++marketCounter;
  await server.services.catalog.upsertCountry({ id: countryId, name: `Test market ${countryId}`, iso: `Q${marketCounter}`, dialPrefix: '1' });
  await server.services.catalog.setPrice({ serviceCode: 'tg', countryId, price: 5000 });
  await server.services.catalog.setPrice({ serviceCode: 'wa', countryId, price: 7500 });
  return countryId;
}

function buy(api: ApiClient, countryId: number, serviceCode = 'tg', headers: Record<string, string> = {}) {
  return api.post('/api/v1/activations', { service_code: serviceCode, country_id: countryId }, headers);
}

async function buyOk(api: ApiClient, countryId: number): Promise<{ id: number; number: string }> {
  const response = await buy(api, countryId);
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body.data.activation;
}

async function balanceOf(api: ApiClient): Promise<number> {
  const response = await api.get('/api/v1/balance');
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body.data.balance;
}

async function statusOf(api: ApiClient, id: number): Promise<string> {
  const response = await api.get(`/api/v1/activations/${id}`);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body.data.activation.status;
}

async function ledgerRows(companyId: number) {
  return server.services.billing.ledger(companyId, { limit: 100, offset: 0 });
}

async function assertLedgerVerifies() {
  assert.deepEqual(await server.services.billing.verify(), [], 'every balance equals the sum of its ledger');
}

function statuses(responses: ApiResponse[]): number[] {
  return responses.map((r) => r.status).sort((a, b) => a - b);
}

function assertNoServerErrors(responses: ApiResponse[]) {
  const failed = responses.filter((r) => r.status >= 500);
  assert.deepEqual(failed.map((r) => r.body), [], 'no request failed with a server error');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('concurrent purchases', () => {
  it('sells exactly as many numbers as the balance affords when 50 buys arrive at once, never going below zero', async () => {
    const market = await openMarket();
    await server.createProvider({ countryId: market, count: 60 });
    const company = await server.createCompany('10');
    const api = server.api(company.apiKey);

    // Balance reads interleaved with the buys: none may ever see a negative balance.
    const [buys, balances] = await Promise.all([
      Promise.all(Array.from({ length: 50 }, () => buy(api, market))),
      Promise.all(Array.from({ length: 20 }, () => api.get('/api/v1/balance'))),
    ]);

    assertNoServerErrors([...buys, ...balances]);
    const sold = buys.filter((r) => r.status === 201);
    const refused = buys.filter((r) => r.status !== 201);
    assert.equal(sold.length, 20, 'ten dollars buy exactly twenty numbers at 0.50');
    assert.equal(refused.length, 30);
    for (const response of refused) {
      assert.equal(response.status, 402);
      assert.equal(response.body.error.code, 'insufficient_balance');
    }
    const numbers = sold.map((r) => r.body.data.activation.number);
    assert.equal(new Set(numbers).size, 20, 'every sale got its own number');

    for (const response of balances) {
      assert.equal(response.status, 200);
      assert.ok(response.body.data.balance >= 0, `balance seen as ${response.body.data.balance}`);
    }
    assert.equal(await balanceOf(api), 0);

    const rows = await ledgerRows(company.companyId);
    assert.equal(rows.filter((r) => r.kind === 'purchase').length, 20, 'one purchase row per sale');
    assert.ok(rows.every((r) => r.balanceAfter >= 0));
    await assertLedgerVerifies();
  });

  it('sells each of 10 numbers once when 3 companies fire 30 buys at once, then shows nothing available', async () => {
    const market = await openMarket();
    const { numbers: stock } = await server.createProvider({ countryId: market, count: 10 });
    const companies = await Promise.all([server.createCompany('100'), server.createCompany('100'), server.createCompany('100')]);
    const clients = companies.map((c) => server.api(c.apiKey));

    // Interleaved: company 0, 1, 2, 0, 1, 2, ...
    const buys = await Promise.all(Array.from({ length: 30 }, (_, i) => buy(clients[i % 3], market)));

    assertNoServerErrors(buys);
    const sold = buys.filter((r) => r.status === 201);
    assert.equal(sold.length, 10, `statuses: ${statuses(buys).join(',')}`);
    for (const response of buys.filter((r) => r.status !== 201)) {
      assert.equal(response.status, 409);
      assert.equal(response.body.error.code, 'out_of_stock');
    }
    const numbers = sold.map((r) => r.body.data.activation.number);
    assert.equal(new Set(numbers).size, 10, 'no number was sold twice');
    assert.deepEqual([...numbers].sort(), [...stock].sort(), 'exactly the stock was sold');

    // Each company paid for what it got, and only that.
    for (let i = 0; i < 3; i++) {
      const bought = buys.filter((r, j) => j % 3 === i && r.status === 201).length;
      assert.equal(await balanceOf(clients[i]), 100 - bought * 0.5);
    }

    const prices = await clients[0].get(`/api/v1/prices?service=tg&country=${market}`);
    assert.equal(prices.status, 200);
    assert.equal(prices.body.data.available, 0);
    assert.equal(prices.body.data.in_stock, false);
    await assertLedgerVerifies();
  });
});

describe('refunds under races', () => {
  it('refunds an activation once when its cancel and the expiry sweeper race', async () => {
    const market = await openMarket();
    await server.createProvider({ countryId: market, count: 12 });
    const company = await server.createCompany('10');
    const api = server.api(company.apiKey);
    const outcomes = new Map<number, number>();

    // Four rounds of three activations; the sweeper starts a little later each round so the
    // cancels win some races and lose others.
    for (let round = 0; round < 4; round++) {
      const bought = await Promise.all([buyOk(api, market), buyOk(api, market), buyOk(api, market)]);
      server.clock.advance(lifetimeSeconds + 1);
      const cancels = bought.map((a) => api.post(`/api/v1/activations/${a.id}/cancel`));
      const sweep = sleep(round * 2).then(() => server.jobs.sweeper.runOnce());
      const [responses] = await Promise.all([Promise.all(cancels), sweep]);
      assertNoServerErrors(responses);
      responses.forEach((response, i) => outcomes.set(bought[i].id, response.status));
    }

    assert.equal(await balanceOf(api), 10, 'every activation was refunded, and only once');
    const refunds = (await ledgerRows(company.companyId)).filter((r) => r.kind === 'refund');
    assert.equal(refunds.length, 12);
    assert.deepEqual(
      refunds.map((r) => r.activationId).sort((a, b) => Number(a) - Number(b)),
      [...outcomes.keys()].sort((a, b) => a - b),
      'exactly one refund row per activation',
    );
    for (const [id, cancelStatus] of outcomes) {
      const status = await statusOf(api, id);
      // Whoever won decided the final state and wrote the refund; the loser was told it was too late.
      if (cancelStatus === 200) assert.equal(status, 'cancelled', `activation ${id}`);
      else {
        assert.equal(cancelStatus, 409, `activation ${id}`);
        assert.equal(status, 'expired', `activation ${id}`);
      }
      const refund = refunds.find((r) => r.activationId === id)!;
      assert.match(refund.reason, new RegExp(status), `activation ${id} was refunded by the one that ${status} it`);
    }
    await assertLedgerVerifies();
  });

  it('completes, without a refund, an activation that got its SMS and then expired', async () => {
    const market = await openMarket();
    const provider = await server.createProvider({ countryId: market, count: 1 });
    const company = await server.createCompany('10');
    const api = server.api(company.apiKey);
    const activation = await buyOk(api, market);

    const sms = await server.api(provider.secret).post('/api/v1/supply/sms', { to: activation.number, from: 'Telegram', text: 'Telegram code: 12345' });
    assert.equal(sms.status, 200, JSON.stringify(sms.body));
    assert.equal(sms.body.data.activation_id, activation.id);
    server.clock.advance(lifetimeSeconds + 1);
    await server.jobs.sweeper.runOnce();

    assert.equal(await statusOf(api, activation.id), 'completed');
    assert.equal(await balanceOf(api), 9.5, 'the customer got the code, so the price stays charged');
    const rows = await ledgerRows(company.companyId);
    assert.equal(rows.filter((r) => r.kind === 'refund').length, 0);
    await assertLedgerVerifies();
  });

  it('never refunds when a complete races the expiry sweeper', async () => {
    const market = await openMarket();
    const provider = await server.createProvider({ countryId: market, count: 9 });
    const company = await server.createCompany('10');
    const api = server.api(company.apiKey);
    const supplyApi = server.api(provider.secret);
    const ids: number[] = [];

    for (let round = 0; round < 3; round++) {
      const bought = await Promise.all([buyOk(api, market), buyOk(api, market), buyOk(api, market)]);
      for (const activation of bought) {
        const sms = await supplyApi.post('/api/v1/supply/sms', { to: activation.number, from: 'Telegram', text: 'Telegram code: 12345' });
        assert.equal(sms.body.data?.activation_id, activation.id, JSON.stringify(sms.body));
      }
      server.clock.advance(lifetimeSeconds + 1);
      const completes = bought.map((a) => api.post(`/api/v1/activations/${a.id}/complete`));
      const sweep = sleep(round * 2).then(() => server.jobs.sweeper.runOnce());
      const [responses] = await Promise.all([Promise.all(completes), sweep]);
      assertNoServerErrors(responses);
      for (const response of responses) {
        // 200: the customer completed first; 409 invalid_state: the sweeper already completed it.
        if (response.status !== 200) {
          assert.equal(response.status, 409);
          assert.equal(response.body.error.code, 'invalid_state');
        }
      }
      ids.push(...bought.map((a) => a.id));
    }

    for (const id of ids) assert.equal(await statusOf(api, id), 'completed', `activation ${id}`);
    assert.equal(await balanceOf(api), 10 - 9 * 0.5);
    const rows = await ledgerRows(company.companyId);
    assert.equal(rows.filter((r) => r.kind === 'refund').length, 0, 'a completed activation is never refunded');
    assert.equal(rows.filter((r) => r.kind === 'purchase').length, 9);
    await assertLedgerVerifies();
  });

  it('cancels once and refunds once when the same cancel is sent twice at the same moment', async () => {
    const market = await openMarket();
    await server.createProvider({ countryId: market, count: 1 });
    const company = await server.createCompany('10');
    const api = server.api(company.apiKey);
    const activation = await buyOk(api, market);
    server.clock.advance(cancelAfterSeconds + 1);

    const responses = await Promise.all([
      api.post(`/api/v1/activations/${activation.id}/cancel`),
      api.post(`/api/v1/activations/${activation.id}/cancel`),
    ]);

    assert.deepEqual(statuses(responses), [200, 409]);
    const loser = responses.find((r) => r.status === 409)!;
    assert.equal(loser.body.error.code, 'invalid_state');
    assert.equal(responses.find((r) => r.status === 200)!.body.data.activation.status, 'cancelled');
    assert.equal(await balanceOf(api), 10);
    const refunds = (await ledgerRows(company.companyId)).filter((r) => r.kind === 'refund');
    assert.deepEqual(refunds.map((r) => [r.activationId, r.amount]), [[activation.id, 5000]]);
    await assertLedgerVerifies();
  });
});

describe('idempotent purchases', () => {
  it('charges once for 10 concurrent retries with one Idempotency-Key, and refuses that key for another purchase', async () => {
    const market = await openMarket();
    await server.createProvider({ countryId: market, count: 5 });
    const company = await server.createCompany('10');
    const api = server.api(company.apiKey);
    const key = { 'idempotency-key': `order-${market}-1` };

    const retries = await Promise.all(Array.from({ length: 10 }, () => buy(api, market, 'tg', key)));

    assertNoServerErrors(retries);
    for (const response of retries) assert.equal(response.status, 201, JSON.stringify(response.body));
    const ids = new Set(retries.map((r) => r.body.data.activation.id));
    assert.equal(ids.size, 1, 'every retry answered with the same activation');
    assert.equal(await balanceOf(api), 9.5, 'charged once');
    let rows = await ledgerRows(company.companyId);
    assert.equal(rows.filter((r) => r.kind === 'purchase').length, 1);

    const conflict = await buy(api, market, 'wa', key);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'idempotency_conflict');

    const another = await buy(api, market, 'tg', { 'idempotency-key': `order-${market}-2` });
    assert.equal(another.status, 201);
    assert.ok(!ids.has(another.body.data.activation.id), 'a new key buys a new activation');
    assert.equal(await balanceOf(api), 9);
    rows = await ledgerRows(company.companyId);
    assert.equal(rows.filter((r) => r.kind === 'purchase').length, 2);
    await assertLedgerVerifies();
  });
});

describe('several server instances', () => {
  it('refunds each expired activation once when two instances sweep one database at the same time', async () => {
    const second = await startTestServer({
      database: server.database,
      // Both instances read one time, as two processes on one host would.
      clock: server.clock,
      env: { NOVA_ACTIVATION_LIFETIME_S: String(lifetimeSeconds), NOVA_CANCEL_AFTER_S: String(cancelAfterSeconds), NOVA_PROVIDER_MAX_FAILURES: String(maxProviderFailures) },
    });
    try {
      // Expire whatever earlier tests left open, so the passes below see only this test's 20.
      server.clock.advance(lifetimeSeconds + 1);
      await server.jobs.sweeper.runOnce();
      const market = await openMarket();
      await server.createProvider({ countryId: market, count: 20 });
      const company = await server.createCompany('10');
      const api = server.api(company.apiKey);
      const bought = await Promise.all(Array.from({ length: 20 }, (_, i) => buy(i % 2 ? api : second.api(company.apiKey), market)));
      assert.deepEqual(statuses(bought), Array(20).fill(201));
      assert.equal(await balanceOf(api), 0);
      server.clock.advance(lifetimeSeconds + 1);

      const swept = await Promise.all([
        server.jobs.sweeper.runOnce(),
        second.jobs.sweeper.runOnce(),
        server.jobs.sweeper.runOnce(),
        second.jobs.sweeper.runOnce(),
      ]);
      assert.equal(swept.reduce((a, b) => a + b, 0), 20, `each activation finished by one pass only (passes: ${swept.join(', ')})`);

      const ids = bought.map((r) => r.body.data.activation.id as number);
      // From the database: these two instances share no message bus (instances of one deployment
      // share Redis), so each one's memory still holds the activations it sold as it sold them.
      for (const id of ids) assert.equal((await findActivation(server.database.db, id))?.status, 'expired', `activation ${id}`);
      const refunds = (await ledgerRows(company.companyId)).filter((r) => r.kind === 'refund');
      assert.deepEqual(
        refunds.map((r) => r.activationId).sort((a, b) => Number(a) - Number(b)),
        [...ids].sort((a, b) => a - b),
        'exactly one refund row per activation',
      );
      assert.equal(await balanceOf(api), 10);
      await assertLedgerVerifies();

      // The numbers are free again: not for tg, which already used them, but for any other service.
      const tg = await api.get(`/api/v1/prices?service=tg&country=${market}`);
      const wa = await api.get(`/api/v1/prices?service=wa&country=${market}`);
      assert.equal(tg.body.data.available, 0);
      assert.equal(wa.body.data.available, 20);
    } finally {
      await second.close();
    }
  });
});
