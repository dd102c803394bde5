import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../support/test-server.ts';

const apiTime = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

describe('activations', () => {
  let server: TestServer;
  let provider: { secret: string; numbers: string[] };

  before(async () => {
    server = await startTestServer();
    provider = await server.createProvider({ countryId: 6, count: 40 });
  });
  after(() => server.close());

  const sms = (to: string, text: string, from = 'Telegram') =>
    server.api(provider.secret).post('/api/v1/supply/sms', { to, from, text });

  it('sells a number, shows the code when the SMS arrives, and completes', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201);
    const activation = bought.body.data.activation;
    assert.equal(typeof activation.id, 'number');
    assert.equal(activation.type, 'sms');
    assert.ok(provider.numbers.includes(activation.number));
    assert.deepEqual(
      { service: activation.service, country: activation.country, price: activation.price, status: activation.status, code: activation.code },
      { service: 'tg', country: 6, price: 0.5, status: 'waiting', code: null },
    );
    assert.match(activation.expires_at, apiTime);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.5);

    const pending = await api.get(`/api/v1/activations/${activation.id}`);
    assert.equal(pending.body.data.activation.status, 'waiting');
    assert.deepEqual(pending.body.data.activation.messages, []);

    const pushed = await sms(activation.number, 'Telegram code: 53811\n\nDo not give this code to anyone');
    assert.equal(pushed.status, 200);
    assert.deepEqual({ activation_id: pushed.body.data.activation_id, code: pushed.body.data.code }, { activation_id: activation.id, code: '53811' });

    const received = (await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation;
    assert.equal(received.status, 'sms_received');
    assert.equal(received.code, '53811');
    assert.equal(received.text, 'Telegram code: 53811\n\nDo not give this code to anyone');
    assert.equal(received.messages.length, 1);
    assert.equal(received.messages[0].from, 'Telegram');

    const completed = await api.post(`/api/v1/activations/${activation.id}/complete`);
    assert.equal(completed.status, 200);
    assert.equal(completed.body.data.activation.status, 'completed');
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.5, 'a completed activation is paid, not refunded');
  });

  it('keeps every SMS of an activation and shows the latest code', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const { id, number } = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    await sms(number, 'Telegram code: 11111');
    await sms(number, 'Your new Telegram code: 22222');
    await sms(number, 'Welcome to Telegram!');
    const activation = (await api.get(`/api/v1/activations/${id}`)).body.data.activation;
    assert.equal(activation.code, '22222', 'a later message without a code keeps the last code');
    assert.equal(activation.text, 'Welcome to Telegram!');
    assert.deepEqual(
      activation.messages.map((m: { code: string | null }) => m.code),
      ['11111', '22222', null],
    );
  });

  it('refuses to complete before an SMS arrived', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const { id } = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    const response = await api.post(`/api/v1/activations/${id}/complete`);
    assert.equal(response.status, 409);
    assert.equal(response.body.error.code, 'invalid_state');
  });

  it('refuses a cancel earlier than 3 minutes after purchase and says when it becomes possible', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const { id, cancel_available_at } = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    server.clock.advance(179);
    const early = await api.post(`/api/v1/activations/${id}/cancel`);
    assert.equal(early.status, 409);
    assert.equal(early.body.error.code, 'too_early');
    assert.ok(early.body.error.message.includes(cancel_available_at), early.body.error.message);
    assert.match(early.body.error.message, /in 1 s/);

    server.clock.advance(1);
    const cancelled = await api.post(`/api/v1/activations/${id}/cancel`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.data.activation.status, 'cancelled');
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 10, 'the full price is refunded');

    const again = await api.post(`/api/v1/activations/${id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'invalid_state');
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 10, 'refunded exactly once');
  });

  it('refuses to cancel once an SMS arrived', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const { id, number } = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    await sms(number, 'Telegram code: 99999');
    server.clock.advance(200);
    const response = await api.post(`/api/v1/activations/${id}/cancel`);
    assert.equal(response.status, 409);
    assert.equal(response.body.error.code, 'invalid_state');
  });

  it('expires a waiting activation with a refund and completes one that got its code', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const waiting = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    const answered = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    await sms(answered.number, 'Telegram code: 44444');
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9);

    server.clock.advance(1199);
    await server.jobs.sweeper.runOnce();
    assert.equal((await api.get(`/api/v1/activations/${waiting.id}`)).body.data.activation.status, 'waiting', 'not before expires_at');

    server.clock.advance(1);
    await server.jobs.sweeper.runOnce();
    assert.equal((await api.get(`/api/v1/activations/${waiting.id}`)).body.data.activation.status, 'expired');
    assert.equal((await api.get(`/api/v1/activations/${answered.id}`)).body.data.activation.status, 'completed');
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.5, 'only the activation without SMS is refunded');

    await server.jobs.sweeper.runOnce();
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.5, 'a second sweep refunds nothing');

    const late = await sms(waiting.number, 'Telegram code: 12121');
    assert.equal(late.body.data.activation_id, null, 'an SMS after expiry is kept but not attached');
  });

  it('lists activations newest first with total, paging and a status filter', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api.post('/api/v1/activations', { service_code: 'wa', country_id: 6 })).body.data.activation.id);
    await sms((await api.get(`/api/v1/activations/${ids[0]}`)).body.data.activation.number, 'Your WhatsApp code: 123-456', 'WhatsApp');

    const all = (await api.get('/api/v1/activations')).body.data;
    assert.equal(all.total, 3);
    assert.equal(all.limit, 20);
    assert.equal(all.offset, 0);
    assert.deepEqual(all.activations.map((a: { id: number }) => a.id), [...ids].reverse());

    const page = (await api.get('/api/v1/activations?limit=1&offset=1')).body.data;
    assert.deepEqual(page.activations.map((a: { id: number }) => a.id), [ids[1]]);
    assert.equal(page.total, 3);

    const received = (await api.get('/api/v1/activations?status=sms_received')).body.data;
    assert.equal(received.total, 1);
    assert.equal(received.activations[0].code, '123456');
    assert.equal(received.activations[0].text, 'Your WhatsApp code: 123-456');
  });

  it('lets owners see the whole company, members only their own, and other companies nothing', async () => {
    const owner = await server.createCompany('10');
    const member = await server.addMember(owner.companyId);
    const stranger = await server.createCompany('10');
    const ownerApi = server.api(owner.apiKey);
    const memberApi = server.api(member.apiKey);
    const strangerApi = server.api(stranger.apiKey);

    const ownerActivation = (await ownerApi.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    const memberActivation = (await memberApi.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    assert.equal((await memberApi.get('/api/v1/balance')).body.data.balance, 9, 'members spend the company balance');

    assert.equal((await ownerApi.get(`/api/v1/activations/${memberActivation.id}`)).status, 200);
    assert.equal((await ownerApi.get('/api/v1/activations')).body.data.total, 2);
    assert.equal((await memberApi.get(`/api/v1/activations/${ownerActivation.id}`)).status, 404);
    assert.equal((await memberApi.get(`/api/v1/activations/${memberActivation.id}`)).status, 200);
    assert.deepEqual((await memberApi.get('/api/v1/activations')).body.data.activations.map((a: { id: number }) => a.id), [memberActivation.id]);

    for (const id of [ownerActivation.id, memberActivation.id]) {
      for (const response of [
        await strangerApi.get(`/api/v1/activations/${id}`),
        await strangerApi.post(`/api/v1/activations/${id}/cancel`),
        await strangerApi.post(`/api/v1/activations/${id}/complete`),
      ]) {
        assert.equal(response.status, 404);
        assert.equal(response.body.error.code, 'not_found');
      }
    }
    server.clock.advance(181);
    assert.equal((await memberApi.post(`/api/v1/activations/${ownerActivation.id}/cancel`)).status, 404, "a member cannot cancel the owner's activation");
    assert.equal((await ownerApi.post(`/api/v1/activations/${memberActivation.id}/cancel`)).status, 200, "an owner can cancel a member's activation");
    assert.equal((await strangerApi.get('/api/v1/activations')).body.data.total, 0);
  });

  it('answers 404 for an activation that does not exist', async () => {
    const { apiKey } = await server.createCompany('1');
    const response = await server.api(apiKey).get('/api/v1/activations/987654321');
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'not_found');
  });

  it('refuses to buy without enough balance, and charges nothing', async () => {
    const { apiKey } = await server.createCompany('0.4999');
    const api = server.api(apiKey);
    const response = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(response.status, 402);
    assert.equal(response.body.error.code, 'insufficient_balance');
    assert.match(response.body.error.message, /0\.4999.*0\.5000/);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 0.4999);
  });

  it('answers unknown service, unknown country and a price above max_price with their own codes', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const unknownService = await api.post('/api/v1/activations', { service_code: 'nope', country_id: 6 });
    assert.deepEqual([unknownService.status, unknownService.body.error.code], [404, 'unknown_service']);
    const unknownCountry = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 9999 });
    assert.deepEqual([unknownCountry.status, unknownCountry.body.error.code], [404, 'unknown_country']);
    const notSold = await api.post('/api/v1/activations', { service_code: 'wa', country_id: 16 });
    assert.deepEqual([notSold.status, notSold.body.error.code], [409, 'out_of_stock']);
    const tooExpensive = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, max_price: 0.49 });
    assert.deepEqual([tooExpensive.status, tooExpensive.body.error.code], [409, 'price_above_max']);
    const affordable = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, max_price: 0.5 });
    assert.equal(affordable.status, 201);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.5);
  });

  it('sells only numbers of the requested operator when one is given', async () => {
    const local = await startTestServer();
    try {
      await local.createProvider({ countryId: 6, count: 2, operator: 'verizon' });
      const { apiKey } = await local.createCompany('10');
      const api = local.api(apiKey);
      const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator: 'verizon' });
      assert.equal(bought.body.data.activation.operator, 'verizon');
      const none = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator: 'att' });
      assert.deepEqual([none.status, none.body.error.code], [409, 'out_of_stock']);
    } finally {
      await local.close();
    }
  });

  it('never sells one number twice for the same service, but again for another service once free', async () => {
    const local = await startTestServer();
    try {
      const { numbers } = await local.createProvider({ countryId: 6, count: 1 });
      const { apiKey } = await local.createCompany('10');
      const api = local.api(apiKey);
      const first = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
      assert.equal(first.number, numbers[0]);
      const busy = await api.post('/api/v1/activations', { service_code: 'wa', country_id: 6 });
      assert.equal(busy.body.error.code, 'out_of_stock', 'a number in an open activation is not for sale');
      local.clock.advance(181);
      await api.post(`/api/v1/activations/${first.id}/cancel`);
      const sameService = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
      assert.equal(sameService.body.error.code, 'out_of_stock', 'never the same number for the same service');
      const otherService = await api.post('/api/v1/activations', { service_code: 'wa', country_id: 6 });
      assert.equal(otherService.status, 201);
      assert.equal(otherService.body.data.activation.number, numbers[0]);
    } finally {
      await local.close();
    }
  });

  it('returns the same activation for a retried purchase with the same Idempotency-Key and charges once', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const first = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 }, { 'idempotency-key': 'retry-1' });
    const retry = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 }, { 'idempotency-key': 'retry-1' });
    assert.equal(first.status, 201);
    assert.equal(retry.body.data.activation.id, first.body.data.activation.id);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.5);
    const misuse = await api.post('/api/v1/activations', { service_code: 'wa', country_id: 6 }, { 'idempotency-key': 'retry-1' });
    assert.deepEqual([misuse.status, misuse.body.error.code], [409, 'idempotency_conflict']);
  });
});
