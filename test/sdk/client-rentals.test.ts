import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  NovaClient,
  NovaError,
  NovaRentalEndedError,
  NovaRentalTimeoutError,
  type ApiErrorCode,
} from '../../packages/client/src/index.ts';
import { until } from '../support/subscriptions.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

/** Resolves to the NovaError `promise` rejects with, after checking its code and HTTP status. */
async function refused(promise: Promise<unknown>, code: ApiErrorCode, status: number): Promise<NovaError> {
  const error = await promise.then(
    (value) => assert.fail(`expected ${code}, got ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  assert.ok(NovaError.is(error, code), `expected ${code}, got ${String(error)}`);
  assert.equal(error.status, status);
  return error;
}

describe('TypeScript SDK: rentals, reuse and reports against a running server', () => {
  let server: TestServer;
  let marketCounter = 0;
  // Every SMS its own text: the same text to the same number within minutes is one SMS.
  let smsCounter = 31_000;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function customer(credit = '10') {
    const { apiKey } = await server.createCompany(credit);
    return new NovaClient({ apiKey, baseUrl: server.url });
  }

  /** A country of its own, rented at 0.20 an hour and 2.50 a day, with `count` rentable numbers. */
  async function rentalMarket(count = 1) {
    const countryId = 800 + ++marketCounter;
    await server.services.catalog.upsertCountry({ id: countryId, name: `SDK rental land ${countryId}`, iso: `K${marketCounter}`, dialPrefix: '1' });
    await server.services.rentals.setPrice({ countryId, pricePerHour: 2000, pricePerDay: 25_000 });
    const provider = await server.createProvider({ countryId, count, rentable: true });
    return { countryId, ...provider };
  }

  /** A country of its own where tg sells at 0.50, with `count` numbers: whoever buys there gets one of these. */
  async function activationMarket(count = 1) {
    const countryId = 850 + ++marketCounter;
    await server.services.catalog.upsertCountry({ id: countryId, name: `SDK activation land ${countryId}`, iso: `J${marketCounter}`, dialPrefix: '1' });
    await server.services.catalog.setPrice({ serviceCode: 'tg', countryId, price: 5000 });
    const provider = await server.createProvider({ countryId, count });
    return { countryId, ...provider };
  }

  function pushSms(secret: string, to: string, from = 'Telegram') {
    return server.api(secret).post('/api/v1/supply/sms', { to, from, text: `${from} code: ${++smsCounter}` });
  }

  it('shows rental prices, rents a number, lists, extends and finishes it, charging each step', async () => {
    const nova = await customer('10');
    const { countryId, numbers } = await rentalMarket(2);

    assert.deepEqual(await nova.rentals.prices({ country: countryId }), [
      { country: countryId, operator: 'any', price_per_hour: 0.2, price_per_day: 2.5, available: 2 },
    ]);
    assert.ok((await nova.rentals.prices()).some((p) => p.country === countryId));
    await refused(nova.rentals.prices({ country: 99_999 }), 'unknown_country', 404);

    const rental = await nova.rentals.create({ country: countryId, hours: 3 });
    assert.equal(rental.type, 'rent');
    assert.equal(rental.status, 'active');
    assert.equal(rental.hours, 3);
    assert.equal(rental.price, 0.6);
    assert.ok(numbers.includes(rental.number));
    assert.deepEqual(rental.messages, []);
    assert.equal((await nova.rentals.prices({ country: countryId }))[0].available, 1, 'the rented number is no longer free');

    const read = await nova.rentals.get(rental.id);
    assert.equal(read.number, rental.number);
    const page = await nova.rentals.list({ status: 'active', limit: 5 });
    assert.equal(page.total, 1);
    assert.equal(page.limit, 5);
    assert.equal(page.rentals[0].id, rental.id);
    await refused(nova.rentals.list({ limit: 500 }), 'invalid_request', 400);

    const extended = await nova.rentals.extend(rental.id, 2);
    assert.equal(extended.hours, 5);
    assert.equal(extended.price, 1);
    assert.equal(Date.parse(`${extended.expires_at}Z`) - Date.parse(`${rental.expires_at}Z`), 2 * 3600_000);

    const finished = await nova.rentals.finish(rental.id);
    assert.equal(finished.status, 'finished');
    assert.notEqual(finished.finished_at, null);
    assert.equal((await nova.balance()).balance, 9, 'no refund for finishing early');
    await refused(nova.rentals.extend(rental.id, 1), 'invalid_state', 409);
    await refused(nova.rentals.finish(rental.id), 'invalid_state', 409);
    assert.equal((await nova.rentals.list({ status: 'finished' })).total, 1);

    // Another company's key sees nothing of it.
    const stranger = await customer('10');
    await refused(stranger.rentals.get(rental.id), 'not_found', 404);
  });

  it('refuses a rental the balance cannot pay or the stock cannot serve', async () => {
    const { countryId } = await rentalMarket(1);
    const broke = await customer('0.5');
    await refused(broke.rentals.create({ country: countryId, hours: 3 }), 'insufficient_balance', 402);
    const nova = await customer('10');
    await nova.rentals.create({ country: countryId, hours: 1 });
    await refused(nova.rentals.create({ country: countryId, hours: 1 }), 'out_of_stock', 409);
  });

  it('cancels a fresh rental for a full refund, and refuses once the cancel window has passed', async () => {
    const nova = await customer('10');
    const { countryId } = await rentalMarket(2);
    const first = await nova.rentals.create({ country: countryId, hours: 24 });
    assert.equal((await nova.balance()).balance, 7.5);
    const cancelled = await nova.rentals.cancel(first.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal((await nova.balance()).balance, 10);

    const second = await nova.rentals.create({ country: countryId, hours: 1 });
    server.clock.advance(server.config.rentalCancelWindowSeconds + 1);
    const error = await refused(nova.rentals.cancel(second.id), 'too_late', 409);
    assert.match(error.message, /finish it instead/);
  });

  it('sends one Idempotency-Key per rental, so a retry after a lost answer never rents twice', async () => {
    const { apiKey } = await server.createCompany('10');
    const { countryId } = await rentalMarket(3);
    let lostOnce = false;
    const keys: string[] = [];
    const nova = new NovaClient({
      apiKey,
      baseUrl: server.url,
      retryDelayMs: 10,
      // The server rents the number, then the connection drops before the answer arrives.
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST') keys.push(new Headers(init.headers).get('idempotency-key') ?? '');
        if (init?.method === 'POST' && !lostOnce) {
          lostOnce = true;
          throw new TypeError('fetch failed: socket hang up');
        }
        return response;
      },
    });
    const rental = await nova.rentals.create({ country: countryId, hours: 2 });
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
    assert.ok(keys[0].length >= 16);
    const page = await nova.rentals.list();
    assert.equal(page.total, 1);
    assert.equal(page.rentals[0].id, rental.id);
    assert.equal((await nova.balance()).balance, 9.6);

    // A given key is sent as is: the same request answers the same rental, another one is refused.
    const again = await nova.rentals.create({ country: countryId, hours: 1 }, { idempotencyKey: 'rent-7' });
    const replay = await nova.rentals.create({ country: countryId, hours: 1 }, { idempotencyKey: 'rent-7' });
    assert.equal(replay.id, again.id);
    await refused(nova.rentals.create({ country: countryId, hours: 5 }, { idempotencyKey: 'rent-7' }), 'idempotency_conflict', 409);
    assert.equal((await nova.rentals.list()).total, 2);
  });

  it('waitForMessage resolves to the SMS that arrives while it waits, not to one already there', async () => {
    const nova = await customer('10');
    const { countryId, secret } = await rentalMarket(1);
    const rental = await nova.rentals.create({ country: countryId, hours: 4 });
    assert.equal((await pushSms(secret, rental.number, 'WhatsApp')).status, 200);
    const [old] = (await nova.rentals.get(rental.id)).messages;
    assert.equal(old.from, 'WhatsApp');

    const waitsBefore = server.services.rentals.waiting();
    const polls: number[] = [];
    const waiting = nova.rentals.waitForMessage(rental.id, { timeout: 10_000, onPoll: (r) => polls.push(r.messages.length) });
    await until(() => server.services.rentals.waiting() > waitsBefore, 'waitForMessage to long-poll');
    await pushSms(secret, rental.number, 'Telegram');
    const message = await waiting;
    assert.equal(message.from, 'Telegram');
    assert.match(message.text, /^Telegram code: \d+$/);
    assert.equal(message.code, message.text.split(': ')[1]);
    assert.ok(message.id > old.id);
    assert.deepEqual(polls, [1, 2], 'one look, then one long-poll answered by the SMS');

    // With `after`, a message newer than it that is already there answers at once: the next in turn.
    assert.deepEqual(await nova.rentals.waitForMessage(rental.id, { after: old.id, timeout: 1000 }), message);
    const third = nova.rentals.waitForMessage(rental.id, { after: message.id, timeout: 10_000 });
    await until(() => server.services.rentals.waiting() > waitsBefore, 'waitForMessage to long-poll again');
    await pushSms(secret, rental.number, 'Signal');
    assert.equal((await third).from, 'Signal');
  });

  it('waitForMessage gives up after its timeout, tells a rental that ended without an SMS, and stops on abort', async () => {
    const nova = await customer('10');
    const { countryId } = await rentalMarket(1);
    const rental = await nova.rentals.create({ country: countryId, hours: 4 });

    const started = performance.now();
    await assert.rejects(nova.rentals.waitForMessage(rental.id, { timeout: 1200 }), (error: unknown) => {
      assert.ok(error instanceof NovaRentalTimeoutError);
      assert.equal(error.rentalId, rental.id);
      assert.match(error.message, new RegExp(`No new SMS for rental ${rental.id} within 1 s`));
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 1100 && elapsed < 3000, `gave up after ${Math.round(elapsed)} ms`);

    const waitsBefore = server.services.rentals.waiting();
    const controller = new AbortController();
    const aborted = nova.rentals.waitForMessage(rental.id, { timeout: 60_000, signal: controller.signal });
    await until(() => server.services.rentals.waiting() === waitsBefore + 1, 'waitForMessage to long-poll');
    const abortedAt = performance.now();
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    assert.ok(performance.now() - abortedAt < 500);
    await until(() => server.services.rentals.waiting() === waitsBefore, 'the server to drop the long-poll');

    // Finished while waiting: the wait ends at once with the rental as it ended.
    const ending = assert.rejects(nova.rentals.waitForMessage(rental.id, { timeout: 60_000 }), (error: unknown) => {
      assert.ok(error instanceof NovaRentalEndedError);
      assert.equal(error.rental.status, 'finished');
      assert.match(error.message, /is finished and received no new SMS/);
      return true;
    });
    await until(() => server.services.rentals.waiting() === waitsBefore + 1, 'waitForMessage to long-poll');
    const endedAt = performance.now();
    await nova.rentals.finish(rental.id);
    await ending;
    assert.ok(performance.now() - endedAt < 2000);
    await refused(nova.rentals.waitForMessage(999_999), 'not_found', 404);
  });

  it('reuses the number of a completed activation as a new activation, once the number is free', async () => {
    const nova = await customer('10');
    const { countryId, secret } = await activationMarket(1);
    const first = await nova.buy({ service: 'tg', country: countryId });
    await refused(nova.reuse(first.id), 'invalid_state', 409);
    await pushSms(secret, first.number);
    await nova.complete(first.id);

    const reused = await nova.reuse(first.id);
    assert.equal(reused.number, first.number);
    assert.equal(reused.reused_from, first.id);
    assert.equal(reused.service, 'tg');
    assert.equal(reused.status, 'waiting');
    assert.notEqual(reused.id, first.id);
    assert.equal((await nova.balance()).balance, 9);

    // Its number is busy with the reuse now.
    const error = await refused(nova.reuse(first.id), 'reuse_unavailable', 409);
    assert.match(error.message, /buy a new number instead/);
    // A given Idempotency-Key answers the same reuse when sent again.
    await pushSms(secret, reused.number);
    await nova.complete(reused.id);
    const keyed = await nova.reuse(reused.id, { idempotencyKey: 'reuse-1' });
    assert.equal((await nova.reuse(reused.id, { idempotencyKey: 'reuse-1' })).id, keyed.id);
    assert.equal((await nova.balance()).balance, 8.5);
  });

  it('reports a bad number: used cancels with a refund, no_sms is recorded, a second report is refused', async () => {
    const nova = await customer('10');
    const { countryId } = await activationMarket(2);
    const used = await nova.buy({ service: 'tg', country: countryId });
    const { activation, report } = await nova.report(used.id, { reason: 'used', note: 'Telegram says it is taken' });
    assert.equal(activation.status, 'cancelled');
    assert.deepEqual({ ...report, created_at: undefined }, { reason: 'used', note: 'Telegram says it is taken', refunded: true, created_at: undefined });
    assert.match(report.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal((await nova.balance()).balance, 10);

    const quiet = await nova.buy({ service: 'tg', country: countryId });
    const noSms = await nova.report(quiet.id, { reason: 'no_sms' });
    assert.equal(noSms.report.refunded, false);
    assert.equal(noSms.report.note, null);
    assert.equal(noSms.activation.status, 'waiting');
    const error = await refused(nova.report(quiet.id, { reason: 'blocked' }), 'invalid_state', 409);
    assert.match(error.message, /already reported/);
    await refused(nova.report(999_999, { reason: 'other' }), 'not_found', 404);
  });
});
