import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../../src/db/database.ts';
import { type ApiResponse, startTestServer, type TestServer } from '../../support/test-server.ts';
import { assertLedgerVerifies, balanceOf, openMarket, pushSms, rentalOf, rentOk } from './rental-support.ts';

/**
 * Races through the real HTTP edge: requests in flight at once (on PostgreSQL their transactions
 * really overlap; on PGlite they queue on its one connection and the same tests check the rules
 * under interleaved requests). After each: the ledger verifies and no number is held twice.
 */

const rounds = 6;
// How long the second request of a race waits (ms), per round: from "at once" to "after the first
// surely ended", so both outcomes happen and the rounds between are real races.
const delays = [0, 2, 5, 15, 50, 200];

let server: TestServer;

before(async () => {
  // Many numbers here end without any SMS on purpose: the provider must stay on sale.
  server = await startTestServer({ env: { NOVA_PROVIDER_MAX_FAILURES: '1000', NOVA_NUMBER_MAX_FAILURES: '1000' } });
});
after(() => server?.close());

function assertNoServerErrors(responses: ApiResponse[]) {
  assert.deepEqual(
    responses.filter((r) => r.status >= 500).map((r) => r.body),
    [],
    'no request failed with a server error',
  );
}

/** No number is held by an activation and a rental at once, nor by two active rentals. */
async function assertNoNumberHeldTwice() {
  const both = await server.database.db.execute(sql`select count(*)::int as n from phone_numbers where busy_activation_id is not null and busy_rental_id is not null`);
  assert.equal(Number(rowsOf<{ n: number }>(both)[0].n), 0, 'a number held by an activation and a rental at once');
  const twice = await server.database.db.execute(sql`select number_id from rentals where status = 'active' group by number_id having count(*) > 1`);
  assert.deepEqual(rowsOf(twice), [], 'a number in two active rentals');
  // Every active rental holds its number, and a held number points at an active rental.
  const loose = await server.database.db.execute(sql`
    select r.id from rentals r join phone_numbers n on n.id = r.number_id
    where (r.status = 'active') <> (n.busy_rental_id is not distinct from r.id)`);
  assert.deepEqual(rowsOf(loose), [], 'rentals and their numbers disagree');
}

describe('rental races', () => {
  it('rental against activation on the last free number: exactly one wins, the number is held once', async (t) => {
    const winners: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const countryId = await openMarket(server);
      const { numbers } = await server.createProvider({ countryId, count: 1, rentable: true });
      const renter = server.api((await server.createCompany('10')).apiKey);
      const buyer = server.api((await server.createCompany('10')).apiKey);
      const [rented, bought] = await Promise.all([
        renter.post('/api/v1/rentals', { country_id: countryId, hours: 1 }),
        buyer.post('/api/v1/activations', { service_code: 'tg', country_id: countryId }),
      ]);
      assertNoServerErrors([rented, bought]);
      assert.deepEqual([rented.status, bought.status].sort(), [201, 409], `round ${round}: ${JSON.stringify([rented.body, bought.body])}`);
      const loser = rented.status === 409 ? rented : bought;
      assert.equal(loser.body.error.code, 'out_of_stock');
      const winner = rented.status === 201 ? rented.body.data.rental : bought.body.data.activation;
      assert.equal(winner.number, numbers[0]);
      winners.push(rented.status === 201 ? 'rental' : 'activation');
      // The loser paid nothing.
      assert.equal(await balanceOf(rented.status === 201 ? buyer : renter), 10);
      await assertNoNumberHeldTwice();
    }
    t.diagnostic(`winners: ${winners.join(', ')}`);
    await assertLedgerVerifies(server);
  });

  it('many renters and buyers on three numbers: three win, on three different numbers, and only they pay', async () => {
    const countryId = await openMarket(server);
    await server.createProvider({ countryId, count: 3, rentable: true });
    const clients = await Promise.all(Array.from({ length: 8 }, async () => server.api((await server.createCompany('10')).apiKey)));
    const responses = await Promise.all(
      clients.map((api, i) =>
        i % 2 === 0 ? api.post('/api/v1/rentals', { country_id: countryId, hours: 2 }) : api.post('/api/v1/activations', { service_code: 'tg', country_id: countryId }),
      ),
    );
    assertNoServerErrors(responses);
    const won = responses.filter((r) => r.status === 201);
    assert.equal(won.length, 3, JSON.stringify(responses.map((r) => r.status)));
    for (const lost of responses.filter((r) => r.status !== 201)) assert.equal(lost.body.error.code, 'out_of_stock');
    const numbers = won.map((r) => (r.body.data.rental ?? r.body.data.activation).number);
    assert.equal(new Set(numbers).size, 3, 'three different numbers');
    const balances = await Promise.all(clients.map((api) => balanceOf(api)));
    const paid = balances.filter((b) => b < 10).length;
    assert.equal(paid, 3, 'only the winners paid');
    await assertNoNumberHeldTwice();
    await assertLedgerVerifies(server);
  });

  it('extend against expiry: either extended and charged, or expired and not charged — never both', async (t) => {
    const outcomes: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const countryId = await openMarket(server);
      await server.createProvider({ countryId, count: 1, rentable: true });
      const { apiKey, companyId } = await server.createCompany('10');
      const api = server.api(apiKey);
      const rental = await rentOk(api, countryId, 1);
      // One second before expiry; the clock passes it while the extension is on its way.
      server.clock.advance(3599);
      const [extended] = await Promise.all([
        api.post(`/api/v1/rentals/${rental.id}/extend`, { hours: 1 }),
        (async () => {
          await sleep(delays[round]);
          server.clock.advance(2);
          return server.jobs.rentalExpiry.runOnce();
        })(),
      ]);
      assertNoServerErrors([extended]);
      const after = await rentalOf(api, rental.id);
      const charges = (await server.services.billing.ledger(companyId, { limit: 20, offset: 0 })).filter((row) => row.kind === 'purchase');
      if (extended.status === 200) {
        outcomes.push('extended');
        assert.deepEqual({ status: after.status, hours: after.hours, price: after.price }, { status: 'active', hours: 2, price: 0.4 });
        assert.equal(charges.length, 2);
        assert.equal(await balanceOf(api), 9.6);
        // It does expire at its new time.
        server.clock.advance(3600);
        await server.jobs.rentalExpiry.runOnce();
        assert.equal((await rentalOf(api, rental.id)).status, 'expired');
      } else {
        outcomes.push('expired');
        assert.equal(extended.status, 409, JSON.stringify(extended.body));
        assert.equal(extended.body.error.code, 'invalid_state');
        // A sweep that came while the refused extension held the rental skipped it; the next one ends it.
        if (after.status === 'active') await server.jobs.rentalExpiry.runOnce();
        const ended = await rentalOf(api, rental.id);
        assert.deepEqual({ status: ended.status, hours: ended.hours, price: ended.price }, { status: 'expired', hours: 1, price: 0.2 });
        assert.equal(charges.length, 1, 'a refused extension is not charged');
        assert.equal(await balanceOf(api), 9.8);
      }
      await assertNoNumberHeldTwice();
    }
    t.diagnostic(`outcomes: ${outcomes.join(', ')}`);
    await assertLedgerVerifies(server);
  });

  it('cancel against an incoming SMS: either refunded with the SMS kept from the renter, or too_late with the SMS delivered', async (t) => {
    const outcomes: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const countryId = await openMarket(server);
      const { secret } = await server.createProvider({ countryId, count: 1, rentable: true });
      const { apiKey } = await server.createCompany('10');
      const api = server.api(apiKey);
      const rental = await rentOk(api, countryId, 2);
      // Even rounds send the SMS a little later, odd ones the cancel.
      const later = async <T>(delayed: boolean, send: () => Promise<T>) => {
        if (delayed) await sleep(delays[round]);
        return send();
      };
      const [cancelled, pushed] = await Promise.all([
        later(round % 2 === 1, () => api.post(`/api/v1/rentals/${rental.id}/cancel`)),
        later(round % 2 === 0, () => pushSms(server, secret, rental.number, `Your code is ${100000 + round}`)),
      ]);
      assertNoServerErrors([cancelled, pushed]);
      assert.equal(pushed.status, 200, 'the SMS is always taken (kept, matched or not)');
      const after = await rentalOf(api, rental.id);
      const balance = await balanceOf(api);
      if (cancelled.status === 200) {
        outcomes.push('refunded');
        assert.equal(after.status, 'cancelled');
        assert.deepEqual(after.messages, [], 'a refunded renter never sees the SMS');
        assert.equal(balance, 10);
      } else {
        assert.equal(cancelled.status, 409, JSON.stringify(cancelled.body));
        outcomes.push('delivered');
        assert.equal(cancelled.body.error.code, 'too_late');
        assert.equal(after.status, 'active');
        assert.equal(after.messages.length, 1);
        assert.equal(balance, 9.6, 'not refunded');
      }
      await assertNoNumberHeldTwice();
    }
    t.diagnostic(`outcomes: ${outcomes.join(', ')}`);
    await assertLedgerVerifies(server);
  });

  it('two cancels and a finish at once: one ends the rental, the refund happens at most once', async () => {
    for (let round = 0; round < rounds; round++) {
      const countryId = await openMarket(server);
      await server.createProvider({ countryId, count: 1, rentable: true });
      const { apiKey } = await server.createCompany('10');
      const api = server.api(apiKey);
      const rental = await rentOk(api, countryId, 1);
      const responses = await Promise.all([
        api.post(`/api/v1/rentals/${rental.id}/cancel`),
        api.post(`/api/v1/rentals/${rental.id}/cancel`),
        api.post(`/api/v1/rentals/${rental.id}/finish`),
      ]);
      assertNoServerErrors(responses);
      assert.equal(responses.filter((r) => r.status === 200).length, 1, JSON.stringify(responses.map((r) => r.body)));
      for (const refused of responses.filter((r) => r.status !== 200)) assert.equal(refused.body.error.code, 'invalid_state');
      const after = await rentalOf(api, rental.id);
      assert.equal(await balanceOf(api), after.status === 'cancelled' ? 10 : 9.8);
      await assertNoNumberHeldTwice();
    }
    await assertLedgerVerifies(server);
  });
});
