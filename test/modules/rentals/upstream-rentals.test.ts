import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runOperatorCommand } from '../../../src/cli/control-socket.ts';
import { systemActor } from '../../../src/modules/audit/audit.service.ts';
import { type FakeUpstream, startFakeUpstream } from '../../support/fakes/sms-activate-upstream.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { uniqueName } from '../../support/test-target.ts';
import { assertLedgerVerifies, balanceOf, openMarket, rentalOf, rentOk } from './rental-support.ts';

/**
 * Renting numbers from upstream providers (sms-activate's getRentNumber family) when no local
 * rentable number is free, against fake upstreams on loopback. Every test opens a country of its
 * own with no local numbers (rentals at 0.20/h, 2.50/day) and upstreams mapping only that country.
 */
describe('rentals from upstream providers (sms-activate rent actions)', () => {
  let server: TestServer;
  let block = 0;
  const open: FakeUpstream[] = [];

  before(async () => {
    server = await startTestServer({ env: { NOVA_REMOTE_TIMEOUT_MS: '400' } });
  });
  after(async () => {
    for (const upstream of open) await upstream.close();
    await server.close();
  });

  /** A fake upstream for `countryId` (its id there: "77"), registered with or without --rentals (by the CLI, or the console's service). */
  async function upstream(countryId: number, options: { rentals: boolean; viaConsole?: boolean }) {
    const base = 447700900000 + (++block % 90) * 10 + Math.floor(Math.random() * 90) * 1000;
    const pool = [String(base + 1), String(base + 2), String(base + 3)];
    const fake = await startFakeUpstream({ apiKey: uniqueName('up'), prices: { '77': { tg: { cost: 0.2, count: 3 } } }, pool, stallMs: 1000 });
    open.push(fake);
    if (options.viaConsole) {
      await server.services.supplyConsole.createProvider(systemActor, {
        name: uniqueName('renting'),
        kind: 'sms-activate',
        url: fake.url,
        apiKey: fake.apiKey,
        countries: { [String(countryId)]: '77' },
        rentals: options.rentals,
      });
      return { fake, pool };
    }
    const args = ['--kind', 'sms-activate', '--name', uniqueName('renting'), '--url', fake.url, '--api-key', fake.apiKey, '--countries', `${countryId}=77`];
    const reply = await runOperatorCommand(server.services, 'provider:create', options.rentals ? [...args, '--rentals'] : args);
    assert.ok(reply.ok, JSON.stringify(reply.error));
    return { fake, pool };
  }

  async function customer(balance = '10') {
    const { apiKey } = await server.createCompany(balance);
    return server.api(apiKey);
  }

  const callsOf = (fake: FakeUpstream, action: string) => fake.calls.filter((call) => call.action === action);
  const upstreamRentalOf = (fake: FakeUpstream, number: string) => [...fake.rentals.values()].find((rental) => `+${rental.number}` === number)!;

  it('rents a number from an upstream with rentals enabled when no local rentable number is free, polls its messages into the rental once each, and finishes it there', async () => {
    const countryId = await openMarket(server);
    const notRenting = await upstream(countryId, { rentals: false });
    const renting = await upstream(countryId, { rentals: true });
    const api = await customer();

    const rental = await rentOk(api, countryId, 3);
    assert.equal(rental.number, `+${renting.pool[0]}`);
    assert.equal(await balanceOf(api), 9.4, '3 h at 0.20');
    const [asked] = callsOf(renting.fake, 'getRentNumber');
    assert.deepEqual([asked!.params.country, asked!.params.rent_time, asked!.params.api_key], ['77', '3', renting.fake.apiKey]);
    assert.equal(callsOf(notRenting.fake, 'getRentNumber').length, 0, 'an upstream without rentals enabled is never asked');

    await server.jobs.remoteSupply.runOnce();
    assert.deepEqual((await rentalOf(api, rental.id)).messages, []);
    renting.fake.receiveRentSms(renting.pool[0]!, 'Telegram', 'Telegram code 52817');
    await server.jobs.remoteSupply.runOnce();
    await server.jobs.remoteSupply.runOnce();
    const seen = await rentalOf(api, rental.id);
    assert.deepEqual(
      seen.messages.map((m: { from: string; text: string; code: string | null }) => [m.from, m.text, m.code]),
      [['Telegram', 'Telegram code 52817', '52817']],
      'stored once, though polled twice',
    );
    renting.fake.receiveRentSms(renting.pool[0]!, 'WhatsApp', 'WhatsApp code 909-112');
    await server.jobs.remoteSupply.runOnce();
    assert.equal((await rentalOf(api, rental.id)).messages.length, 2);

    const finished = await api.post(`/api/v1/rentals/${rental.id}/finish`);
    assert.equal(finished.status, 200, JSON.stringify(finished.body));
    await server.jobs.remoteSupply.runOnce();
    assert.equal(upstreamRentalOf(renting.fake, rental.number).status, 'finished');
    assert.deepEqual(
      callsOf(renting.fake, 'setRentStatus').map((call) => call.params.status),
      ['1'],
      'told once, though the job ran again',
    );
    assert.equal(await balanceOf(api), 9.4, 'finishing refunds nothing');
    const polls = callsOf(renting.fake, 'getRentStatus').length;
    await server.jobs.remoteSupply.runOnce();
    assert.equal(callsOf(renting.fake, 'getRentStatus').length, polls, 'an ended rental is not polled again');
    await assertLedgerVerifies(server);
  });

  it('cancels the upstream rental (setRentStatus 2) when the customer cancels within the window, refunding everything', async () => {
    const countryId = await openMarket(server);
    const renting = await upstream(countryId, { rentals: true });
    const api = await customer();
    const rental = await rentOk(api, countryId, 2);
    assert.equal(await balanceOf(api), 9.6);
    server.clock.advance(60);
    const cancelled = await api.post(`/api/v1/rentals/${rental.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.data.rental.status, 'cancelled');
    assert.equal(await balanceOf(api), 10);
    await server.jobs.remoteSupply.runOnce();
    assert.equal(upstreamRentalOf(renting.fake, rental.number).status, 'cancelled');
    await assertLedgerVerifies(server);
  });

  it('answers 409 out_of_stock and charges nothing when every rental upstream refuses, times out or answers garbage; 402 before asking when the balance cannot pay', async () => {
    const countryId = await openMarket(server);
    const empty = await upstream(countryId, { rentals: true });
    const slow = await upstream(countryId, { rentals: true });
    const broken = await upstream(countryId, { rentals: true });
    empty.fake.behave('getRentNumber', 'no-numbers');
    slow.fake.behave('getRentNumber', 'timeout');
    broken.fake.behave('getRentNumber', 'malformed');
    const api = await customer();
    const refused = await api.post('/api/v1/rentals', { country_id: countryId, hours: 3 });
    assert.deepEqual([refused.status, refused.body.ok, refused.body.error.code], [409, false, 'out_of_stock']);
    for (const tried of [empty, slow, broken]) assert.equal(callsOf(tried.fake, 'getRentNumber').length, 1);
    assert.equal(await balanceOf(api), 10);
    assert.equal((await api.get('/api/v1/rentals')).body.data.total, 0);

    const poor = await customer('0.1');
    const cannotPay = await poor.post('/api/v1/rentals', { country_id: countryId, hours: 3 });
    assert.deepEqual([cannotPay.status, cannotPay.body.error.code], [402, 'insufficient_balance']);
    for (const tried of [empty, slow, broken]) assert.equal(callsOf(tried.fake, 'getRentNumber').length, 1, 'not asked for a renter who cannot pay');
    await assertLedgerVerifies(server);
  });

  it('extends an upstream rental only when the upstream extends it too (continueRentNumber), and charges nothing when it refuses', async () => {
    const countryId = await openMarket(server);
    const renting = await upstream(countryId, { rentals: true });
    const api = await customer();
    const rental = await rentOk(api, countryId, 2);
    const extended = await api.post(`/api/v1/rentals/${rental.id}/extend`, { hours: 5 });
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    assert.equal(extended.body.data.rental.hours, 7);
    assert.equal(upstreamRentalOf(renting.fake, rental.number).hours, 7);
    assert.equal(await balanceOf(api), 8.6, '2 h + 5 h at 0.20');

    renting.fake.behave('continueRentNumber', 'rent-die');
    const refused = await api.post(`/api/v1/rentals/${rental.id}/extend`, { hours: 1 });
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'out_of_stock']);
    assert.match(refused.body.error.message, /refused to extend.*RENT_DIE.*nothing was charged/);
    assert.equal(await balanceOf(api), 8.6);
    assert.equal((await rentalOf(api, rental.id)).hours, 7);
    await assertLedgerVerifies(server);
  });

  it('rents once for concurrent retries with one Idempotency-Key, giving back upstream every number it did not sell', async () => {
    const countryId = await openMarket(server);
    const renting = await upstream(countryId, { rentals: true, viaConsole: true });
    const api = await customer();
    const key = { 'idempotency-key': uniqueName('rent') };
    const answers = await Promise.all([1, 2, 3].map(() => api.post('/api/v1/rentals', { country_id: countryId, hours: 2 }, key)));
    for (const answer of answers) assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const ids = new Set(answers.map((answer) => answer.body.data.rental.id));
    assert.equal(ids.size, 1, 'one rental');
    assert.equal(await balanceOf(api), 9.6, 'charged once');
    await server.jobs.remoteSupply.runOnce();
    const sold = answers[0]!.body.data.rental.number;
    for (const rental of renting.fake.rentals.values()) {
      assert.equal(rental.status, `+${rental.number}` === sold ? 'active' : 'cancelled', `upstream rental of ${rental.number}`);
    }
    await assertLedgerVerifies(server);
  });

  it('finishes the upstream rental when ours expires, and prefers a free local rentable number over any upstream', async () => {
    const countryId = await openMarket(server);
    const renting = await upstream(countryId, { rentals: true });
    const api = await customer();
    const rental = await rentOk(api, countryId, 1);
    server.clock.advance(3601);
    assert.ok((await server.services.rentals.sweepExpired()) >= 1);
    await server.jobs.remoteSupply.runOnce();
    assert.equal((await rentalOf(api, rental.id)).status, 'expired');
    assert.equal(upstreamRentalOf(renting.fake, rental.number).status, 'finished');

    const local = await server.createProvider({ countryId, count: 1, rentable: true });
    const asked = callsOf(renting.fake, 'getRentNumber').length;
    const fromStock = await rentOk(api, countryId, 1);
    assert.equal(fromStock.number, local.numbers[0]);
    assert.equal(callsOf(renting.fake, 'getRentNumber').length, asked, 'the upstream is asked only when local stock is empty');
    await assertLedgerVerifies(server);
  });
});
