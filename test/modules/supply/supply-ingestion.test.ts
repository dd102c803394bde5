import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../support/test-server.ts';

describe('SMS ingestion from providers', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('refuses a push without a valid provider secret, before looking at the body', async () => {
    const { apiKey } = await server.createCompany('1');
    for (const key of [undefined, 'nps_wrong', apiKey]) {
      const response = await server.api(key).post('/api/v1/supply/sms', { bogus: true });
      assert.equal(response.status, 401);
      assert.equal(response.body.error.code, 'unauthorized');
    }
  });

  it('validates the pushed SMS and names the bad field', async () => {
    const { secret } = await server.createProvider({ count: 1 });
    const api = server.api(secret);
    const missingText = await api.post('/api/v1/supply/sms', { to: '+12025550100', from: 'x' });
    assert.deepEqual([missingText.status, missingText.body.error.code], [400, 'invalid_request']);
    assert.match(missingText.body.error.message, /text/);
    const notANumber = await api.post('/api/v1/supply/sms', { to: 'hello', from: 'x', text: 'code 1234' });
    assert.equal(notANumber.status, 400);
    assert.match(notANumber.body.error.message, /to/);
    const badTime = await api.post('/api/v1/supply/sms', { to: '+12025550100', from: 'x', text: 'code 1234', received_at: 'yesterday' });
    assert.equal(badTime.status, 400);
    assert.match(badTime.body.error.message, /received_at/);
  });

  it('keeps an SMS that matches no activation instead of dropping it', async () => {
    const { secret, numbers } = await server.createProvider({ count: 1 });
    const response = await server.api(secret).post('/api/v1/supply/sms', { to: numbers[0], from: 'Google', text: 'G-482913 is your Google verification code.' });
    assert.equal(response.status, 200);
    assert.equal(response.body.data.activation_id, null);
    assert.equal(response.body.data.code, '482913');
    assert.equal(typeof response.body.data.sms_id, 'number');
  });

  it('accepts the recipient without a plus sign or with spaces, as gateways send it', async () => {
    const { secret, numbers } = await server.createProvider({ count: 2, operator: 'gateway-format' });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const activation = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator: 'gateway-format' })).body.data.activation;
    assert.ok(numbers.includes(activation.number));
    const digitsOnly = activation.number.slice(1);
    const spaced = `+${digitsOnly.slice(0, 1)} ${digitsOnly.slice(1, 4)} ${digitsOnly.slice(4, 7)} ${digitsOnly.slice(7)}`;
    const first = await server.api(secret).post('/api/v1/supply/sms', { to: digitsOnly, from: 'Telegram', text: 'Telegram code: 10001' });
    assert.equal(first.body.data.activation_id, activation.id);
    const second = await server.api(secret).post('/api/v1/supply/sms', { to: spaced, from: 'Telegram', text: 'Telegram code: 10002' });
    assert.equal(second.body.data.activation_id, activation.id);
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.code, '10002');
  });

  it("does not let one provider deliver SMS for another provider's number", async () => {
    const owner = await server.createProvider({ count: 1, operator: 'owner-sims' });
    const intruder = await server.createProvider({ count: 1 });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const onOwnerNumber = (await api.post('/api/v1/activations', { service_code: 'wa', country_id: 6, operator: 'owner-sims' })).body.data.activation;
    assert.equal(onOwnerNumber.number, owner.numbers[0]);
    const response = await server.api(intruder.secret).post('/api/v1/supply/sms', { to: owner.numbers[0], from: 'WhatsApp', text: 'code 123456' });
    assert.equal(response.body.data.activation_id, null);
    assert.equal((await api.get(`/api/v1/activations/${onOwnerNumber.id}`)).body.data.activation.status, 'waiting');
  });

  it("gives the number's next activation its SMS even when the text repeats the previous holder's SMS within minutes", async () => {
    const { secret, numbers } = await server.createProvider({ count: 1, operator: 'repeat' });
    const { apiKey } = await server.createCompany('5');
    const api = server.api(apiKey);
    const push = () => server.api(secret).post('/api/v1/supply/sms', { to: numbers[0], from: 'Service', text: 'Your code: 12345' });
    const first = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator: 'repeat' })).body.data.activation;
    assert.equal((await push()).body.data.activation_id, first.id);
    // A gateway retrying the same SMS while its activation is open: still stored once.
    assert.equal((await push()).body.data.activation_id, first.id);
    assert.equal((await api.get(`/api/v1/activations/${first.id}`)).body.data.activation.messages.length, 1);
    assert.equal((await api.post(`/api/v1/activations/${first.id}/complete`)).status, 200);

    server.clock.advance(60);
    const second = (await api.post('/api/v1/activations', { service_code: 'wa', country_id: 6, operator: 'repeat' })).body.data.activation;
    assert.equal(second.number, numbers[0]);
    const pushed = await push();
    assert.equal(pushed.body.data.activation_id, second.id, 'the SMS reaches the new holder, not the earlier one as a "duplicate"');
    assert.equal((await api.get(`/api/v1/activations/${second.id}`)).body.data.activation.code, '12345');
    assert.equal((await api.get(`/api/v1/activations/${first.id}`)).body.data.activation.messages.length, 1);
  });
});

describe('demo supply', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ env: { NOVA_DEMO: '1', NOVA_DEMO_SMS_DELAY_S: '2' } });
  });
  after(() => server.close());

  it('stocks 240 fictional US numbers so the spec example shows "available": 240', async () => {
    const { apiKey } = await server.createCompany('1');
    const price = await server.api(apiKey).get('/api/v1/prices?service=tg&country=6');
    assert.deepEqual(price.body.data, { service: 'tg', country: 6, price: 0.5, available: 240, in_stock: true });
  });

  it('delivers a realistic SMS with a code to a new activation after the configured delay', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const activation = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    assert.match(activation.number, /^\+1202555\d{4}$/);

    server.clock.advance(1);
    await server.jobs.demoSms!.runOnce();
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.status, 'waiting', 'not before the delay');

    server.clock.advance(1);
    await server.jobs.demoSms!.runOnce();
    const received = (await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation;
    assert.equal(received.status, 'sms_received');
    assert.match(received.code, /^\d{5}$/);
    assert.ok(received.text.includes(received.code), received.text);
    assert.equal(received.messages[0].from, 'Telegram');

    await server.jobs.demoSms!.runOnce();
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.messages.length, 1, 'one SMS per activation');
  });
});
