import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { holdRowLock, unlessBlocked } from '../../support/row-lock.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { testTarget } from '../../support/test-target.ts';

/**
 * Every purchase of every company takes a number of some provider, and a handful of providers
 * serve them all. A purchase used to lock its provider's row (the rental's foreign key checked it
 * with FOR KEY SHARE), so all buyers shared that row: each lock rewrote it, and concurrent ones
 * had to be merged into a multixact, one more for every buyer in flight. The rental takes its
 * provider from the number it sells, in the statement that sells it, so that check proved nothing.
 * Here another transaction holds the provider's row as a deleting or key-changing one would
 * (FOR UPDATE, which waits for any FOR KEY SHARE): two companies must still buy and cancel.
 */
const skip = testTarget === 'postgres' ? false : 'a second connection holding a row lock needs PostgreSQL (NOVA_TEST_TARGET=postgres)';

describe('purchases do not lock their provider', { skip }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.close());

  it('buys and cancels while the provider row is locked elsewhere', async () => {
    const provider = await server.createProvider({ count: 4 });
    const companies = [await server.createCompany('10'), await server.createCompany('10')];

    const lock = await holdRowLock(server.database, sql`select id from providers where id = ${provider.providerId} for update`);
    try {
      const bought = await unlessBlocked(
        Promise.all(companies.map((company) => server.api(company.apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 }))),
      );
      assert.notEqual(bought, 'blocked', 'the purchases waited for the lock on their provider');
      if (bought === 'blocked') return;
      assert.deepEqual(bought.map((answer) => answer.status), [201, 201], JSON.stringify(bought.map((answer) => answer.body)));
      const numbers = bought.map((answer) => answer.body.data.activation.number as string);
      assert.ok(numbers.every((number) => provider.numbers.includes(number)));
      assert.notEqual(numbers[0], numbers[1]);

      server.clock.advance(server.config.cancelAfterSeconds + 1);
      const cancelled = await unlessBlocked(
        Promise.all(
          companies.map((company, i) => server.api(company.apiKey).post(`/api/v1/activations/${bought[i].body.data.activation.id}/cancel`)),
        ),
      );
      assert.notEqual(cancelled, 'blocked', 'the cancels waited for the lock on their provider');
      if (cancelled === 'blocked') return;
      assert.deepEqual(cancelled.map((answer) => answer.body.data?.activation?.status), ['cancelled', 'cancelled']);
    } finally {
      await lock.release();
    }
    for (const company of companies) {
      const balance = await server.api(company.apiKey).get('/api/v1/balance');
      assert.equal(balance.body.data.balance, 10, 'each cancel refunded its purchase');
    }
  });
});
