import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { freshEmail, signUp, type WebClient, webClient } from './web-client.ts';

/** Rental prices of the tests: $0.10 an hour, $1.00 a day in the United States (6). */
const perHour = 1000;
const perDay = 10_000;

describe('website rentals', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.services.rentals.setPrice({ countryId: 6, pricePerHour: perHour, pricePerDay: perDay });
  });
  after(async () => {
    await server.close();
  });

  /** A signed-up owner with `usd` on the company balance. */
  async function owner(usd = 10) {
    const signed = await signUp(server);
    await server.services.billing.credit({ companyId: signed.account.company_id, amount: usd * 10_000, kind: 'topup', reason: 'test credit' });
    return signed;
  }

  /** Invites a member into the owner's company and signs them in through the invitation. */
  async function memberOf(ownerClient: WebClient): Promise<WebClient> {
    const invited = await ownerClient.post('/team/invites', { email: freshEmail('member'), role: 'member' });
    assert.equal(invited.status, 200, JSON.stringify(invited.body));
    const member = webClient(server.url);
    await member.start();
    const accepted = await member.post('/invites/accept', { token: new URL(invited.body.data.invite_url).searchParams.get('token'), password: 'member password 1' });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    return member;
  }

  /** Rentable numbers of the tests' providers: an SMS must come from the provider of its number. */
  const providers: { secret: string; numbers: string[] }[] = [];
  async function rentableNumbers(count: number) {
    providers.push(await server.createProvider({ countryId: 6, count, rentable: true }));
  }
  /** The provider of `to` pushes an SMS to it. */
  async function sms(to: string, from: string, text: string) {
    const provider = providers.find((p) => p.numbers.includes(to));
    assert.ok(provider, `no test provider has ${to}`);
    const answer = await server.api(provider.secret).post('/api/v1/supply/sms', { to, from, text });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }

  const balanceOf = async (client: WebClient) => (await client.get('/balance')).body.data.balance as number;

  it('shows the rental price list with stock to anyone, and quotes a price only to a signed-in customer', async () => {
    await rentableNumbers(2);
    const anonymous = webClient(server.url);
    const prices = await anonymous.get('/rentals/prices');
    assert.equal(prices.status, 200, JSON.stringify(prices.body));
    const us = prices.body.data.prices.find((p: { country: number; operator: string }) => p.country === 6 && p.operator === 'any');
    assert.equal(us.country_name, 'United States');
    assert.equal(us.country_iso, 'US');
    assert.equal(us.price_per_hour, 0.1);
    assert.equal(us.price_per_day, 1);
    assert.ok(us.available >= 2, `stock ${us.available}`);
    assert.equal(prices.body.data.prices.filter((p: { country: number }) => p.country === 16).length, 0, 'no rental price in the UK');

    assert.equal((await anonymous.get('/rentals/quote?country_id=6&hours=3')).status, 401);
    const { client } = await owner();
    // 1 day + 3 hours; 30 hours = 1 day + 6 hours; 47 hours: the 23 extra hours cost no more than a day.
    for (const [hours, usd] of [
      [3, 0.3],
      [30, 1.6],
      [47, 2],
    ] as const) {
      const quote = await client.get(`/rentals/quote?country_id=6&hours=${hours}`);
      assert.equal(quote.status, 200, JSON.stringify(quote.body));
      assert.deepEqual(quote.body.data, { country: 6, operator: 'any', hours, price: usd });
    }
    const nowhere = await client.get('/rentals/quote?country_id=16&hours=3');
    assert.equal(nowhere.status, 409);
    assert.equal(nowhere.body.error.code, 'out_of_stock');
    for (const bad of ['hours=0', 'hours=721', 'hours=1.5', 'hours=abc']) {
      const answer = await client.get(`/rentals/quote?country_id=6&${bad}`);
      assert.equal(answer.status, 400, `${bad}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.ok, false);
      assert.equal(answer.body.error.code, 'invalid_request');
    }
  });

  it('rents a number, extends it, lists it and reads its messages newest first, charging the balance for each', async () => {
    await rentableNumbers(1);
    const { client } = await owner(10);
    const rented = await client.post('/rentals', { country_id: 6, hours: 3 });
    assert.equal(rented.status, 201, JSON.stringify(rented.body));
    const rental = rented.body.data.rental;
    assert.equal(rental.type, 'rent');
    assert.equal(rental.status, 'active');
    assert.equal(rental.hours, 3);
    assert.equal(rental.price, 0.3);
    assert.match(rental.number, /^\+1\d{10}$/);
    assert.equal(await balanceOf(client), 9.7);

    const extended = await client.post(`/rentals/${rental.id}/extend`, { hours: 24 });
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    assert.equal(extended.body.data.rental.hours, 27);
    assert.equal(extended.body.data.rental.price, 1.3);
    assert.ok(extended.body.data.rental.expires_at > rental.expires_at, 'the expiry moves');
    assert.equal(await balanceOf(client), 8.7);
    for (const bad of [{ hours: 0 }, { hours: 721 }, { hours: '2' }, {}, { hours: 2, extra: 1 }]) {
      const answer = await client.post(`/rentals/${rental.id}/extend`, bad);
      assert.equal(answer.status, 400, `${JSON.stringify(bad)}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error.code, 'invalid_request');
    }

    await sms(rental.number, 'Telegram', 'Telegram code: 11111');
    server.clock.advance(5);
    await sms(rental.number, 'WhatsApp', 'Your WhatsApp code 222333');
    const read = await client.get(`/rentals/${rental.id}`);
    assert.equal(read.status, 200);
    const messages = read.body.data.rental.messages;
    assert.deepEqual(
      messages.map((m: { from: string; code: string }) => [m.from, m.code]),
      [
        ['WhatsApp', '222333'],
        ['Telegram', '11111'],
      ],
    );
    assert.deepEqual(Object.keys(messages[0]).sort(), ['code', 'from', 'id', 'received_at', 'text']);

    const list = await client.get('/rentals?status=active&limit=5');
    assert.equal(list.status, 200);
    assert.equal(list.body.data.total, 1);
    assert.equal(list.body.data.rentals[0].id, rental.id);
    assert.equal(list.body.data.rentals[0].messages, undefined, 'the list carries no messages');
    assert.equal((await client.get('/rentals?status=cancelled')).body.data.total, 0);
    assert.equal((await client.get('/rentals?status=bogus')).status, 400);

    // Cancel is refused after an SMS, with the reason; finish ends it without a refund.
    const cancel = await client.post(`/rentals/${rental.id}/cancel`);
    assert.equal(cancel.status, 409);
    assert.equal(cancel.body.error.code, 'too_late');
    assert.match(cancel.body.error.message, /SMS/);
    const finished = await client.post(`/rentals/${rental.id}/finish`);
    assert.equal(finished.status, 200, JSON.stringify(finished.body));
    assert.equal(finished.body.data.rental.status, 'finished');
    assert.ok(finished.body.data.rental.finished_at);
    assert.equal(await balanceOf(client), 8.7);
    const again = await client.post(`/rentals/${rental.id}/extend`, { hours: 1 });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'invalid_state');
  });

  it('cancels within 20 minutes and before any SMS with a full refund, and refuses it later with a message that says why', async () => {
    await rentableNumbers(2);
    const { client } = await owner(5);
    const first = (await client.post('/rentals', { country_id: 6, hours: 2 })).body.data.rental;
    assert.equal(await balanceOf(client), 4.8);
    server.clock.advance(60);
    const cancelled = await client.post(`/rentals/${first.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.data.rental.status, 'cancelled');
    assert.equal(await balanceOf(client), 5);

    const second = (await client.post('/rentals', { country_id: 6, hours: 2 })).body.data.rental;
    server.clock.advance(21 * 60);
    const late = await client.post(`/rentals/${second.id}/cancel`);
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'too_late');
    assert.match(late.body.error.message, /20 minutes/);
    assert.equal(await balanceOf(client), 4.8);
  });

  it('refuses a rental without the CSRF token and changes nothing', async () => {
    await rentableNumbers(1);
    const { client } = await owner(5);
    for (const token of [undefined, 'forged']) {
      const refused = await client.post('/rentals', { country_id: 6, hours: 1 }, { 'x-csrf-token': token ?? '' });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'forbidden');
      assert.match(refused.body.error.message, /CSRF/);
    }
    assert.equal((await client.get('/rentals')).body.data.total, 0);
    assert.equal(await balanceOf(client), 5);
    const rental = (await client.post('/rentals', { country_id: 6, hours: 1 })).body.data.rental;
    for (const action of ['cancel', 'finish', 'extend']) {
      const refused = await client.post(`/rentals/${rental.id}/${action}`, action === 'extend' ? { hours: 1 } : undefined, { 'x-csrf-token': 'forged' });
      assert.equal(refused.status, 403, action);
    }
    assert.equal((await client.get(`/rentals/${rental.id}`)).body.data.rental.status, 'active');
    assert.equal(await balanceOf(client), 4.9);
  });

  it('a member sees and changes only their own rentals; the owner sees the whole company’s; another company sees nothing', async () => {
    await rentableNumbers(2);
    const { client: boss } = await owner(10);
    const member = await memberOf(boss);
    const { client: stranger } = await owner(1);
    const ownersRental = (await boss.post('/rentals', { country_id: 6, hours: 1 })).body.data.rental;
    const membersRental = (await member.post('/rentals', { country_id: 6, hours: 1 })).body.data.rental;
    assert.ok(ownersRental && membersRental);

    for (const client of [member, stranger]) {
      const read = await client.get(`/rentals/${ownersRental.id}`);
      assert.equal(read.status, 404);
      assert.equal(read.body.error.code, 'not_found');
      for (const action of ['cancel', 'finish']) assert.equal((await client.post(`/rentals/${ownersRental.id}/${action}`)).status, 404);
      assert.equal((await client.post(`/rentals/${ownersRental.id}/extend`, { hours: 1 })).status, 404);
      const live = await client.events(`/rentals/${ownersRental.id}/live`);
      live.close();
      assert.equal(live.status, 404);
      assert.ok(!(await client.get('/rentals.csv')).body.includes(ownersRental.number));
    }
    assert.deepEqual((await member.get('/rentals')).body.data.rentals.map((r: { id: number }) => r.id), [membersRental.id]);
    assert.equal((await stranger.get('/rentals')).body.data.total, 0);
    assert.deepEqual(
      (await boss.get('/rentals')).body.data.rentals.map((r: { id: number }) => r.id),
      [membersRental.id, ownersRental.id],
    );
    assert.equal((await boss.get(`/rentals/${membersRental.id}`)).status, 200);
    assert.equal((await boss.get(`/rentals/${ownersRental.id}`)).body.data.rental.status, 'active', 'nothing the others tried changed it');

    const anonymous = webClient(server.url);
    assert.equal((await anonymous.get('/rentals')).status, 401);
    assert.equal((await anonymous.get(`/rentals/${ownersRental.id}`)).status, 401);
    assert.equal((await anonymous.get('/rentals.csv')).status, 401);
    assert.equal((await boss.get('/rentals/99999999999')).status, 404);
    assert.equal((await boss.get('/rentals/0')).status, 400);
  });

  it('pushes each new message of a rental to its live stream at once, and ends the stream when the rental ends', async () => {
    await rentableNumbers(1);
    const { client } = await owner(5);
    const rental = (await client.post('/rentals', { country_id: 6, hours: 1 })).body.data.rental;
    const anonymous = webClient(server.url);
    const refused = await anonymous.events(`/rentals/${rental.id}/live`);
    refused.close();
    assert.equal(refused.status, 401);

    const live = await client.events(`/rentals/${rental.id}/live`);
    try {
      assert.equal(live.status, 200);
      const opening = await live.next((e) => e.event === 'rental');
      assert.equal(opening.data.rental.id, rental.id);
      assert.deepEqual(opening.data.rental.messages, []);

      for (const [index, text] of ['Telegram code: 31337', 'Telegram code: 42424'].entries()) {
        const started = Date.now();
        await sms(rental.number, 'Telegram', text);
        const pushed = await live.next((e) => e.event === 'rental' && e.data.rental.messages.length === index + 1, 2000);
        assert.ok(Date.now() - started < 2000, 'pushed, not polled later');
        assert.equal(pushed.data.rental.messages[0].text, text, 'newest first');
      }
      assert.equal((await client.post(`/rentals/${rental.id}/finish`)).status, 200);
      const ended = await live.next((e) => e.event === 'rental' && e.data.rental.status === 'finished', 2000);
      assert.equal(ended.data.rental.messages.length, 2);
    } finally {
      live.close();
    }
  });

  it('exports the rentals as CSV, filtered by status', async () => {
    await rentableNumbers(2);
    const { client } = await owner(5);
    const kept = (await client.post('/rentals', { country_id: 6, hours: 2 })).body.data.rental;
    const dropped = (await client.post('/rentals', { country_id: 6, hours: 1 })).body.data.rental;
    assert.equal((await client.post(`/rentals/${dropped.id}/cancel`)).status, 200);

    const csv = await client.get('/rentals.csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /text\/csv/);
    assert.match(csv.headers.get('content-disposition')!, /attachment; filename="nova-rentals.csv"/);
    const lines = (csv.body as string).trim().split('\r\n');
    assert.equal(lines[0], 'id,number,country,operator,price,status,hours,created_at,expires_at,finished_at');
    assert.equal(lines.length, 3);
    assert.ok(lines[1].startsWith(`${dropped.id},${dropped.number},6,any,0.1,cancelled,1,`), lines[1]);
    assert.match(lines[1], /,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'a cancelled rental has its end time');
    assert.ok(lines[2].startsWith(`${kept.id},${kept.number},6,any,0.2,active,2,${kept.created_at},${kept.expires_at},`), lines[2]);
    assert.ok(lines[2].endsWith(','), 'an active rental has no end time yet');
    const active = ((await client.get('/rentals.csv?status=active')).body as string).trim().split('\r\n');
    assert.equal(active.length, 2);
    assert.equal((await client.get('/rentals.csv?status=nope')).status, 400);
  });
});
