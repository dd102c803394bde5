import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runOperatorCommand } from '../../../src/cli/control-socket.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { uniqueName } from '../../support/test-target.ts';

/** Running the supply: failing numbers, cooldown after cancel, duplicates, unmatched SMS, provider health. */
describe('supply operations', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ env: { NOVA_NUMBER_MAX_FAILURES: '2', NOVA_CANCEL_COOLDOWN_S: '600' } });
    await server.services.catalog.upsertService({ code: 'ig', name: 'Instagram' });
    await server.services.catalog.setPrice({ serviceCode: 'ig', countryId: 6, price: 4000 });
  });
  after(() => server.close());

  // Command output is untyped JSON; tests read its fields.
  async function operator(name: string, args: string[] = []): Promise<{ ok: boolean; json: any; text: string; error?: { code: string } }> {
    const reply = await runOperatorCommand(server.services, name, args);
    return { ok: reply.ok, json: reply.output?.json, text: reply.output?.text ?? '', error: reply.error };
  }

  /** Numbers on an operator of their own, so a test buys exactly its numbers. */
  async function stock(count: number) {
    const operatorName = uniqueName('op');
    const provider = await server.createProvider({ count, operator: operatorName });
    const { apiKey } = await server.createCompany('20');
    const api = server.api(apiKey);
    const buy = (service: string) => api.post('/api/v1/activations', { service_code: service, country_id: 6, operator: operatorName });
    const push = (to: string, text: string, from = 'Telegram') => server.api(provider.secret).post('/api/v1/supply/sms', { to, from, text });
    return { ...provider, api, buy, push, operatorName };
  }

  async function expireOpenActivations() {
    server.clock.advance(1201);
    await server.jobs.sweeper.runOnce();
  }

  it('stops selling a number after N activations in a row got no SMS, until an operator enables it again', async () => {
    const { numbers, buy } = await stock(1);
    assert.equal((await buy('tg')).status, 201);
    await expireOpenActivations();
    assert.equal((await buy('wa')).status, 201);
    await expireOpenActivations();
    const refused = await buy('ig');
    assert.equal(refused.body.error?.code, 'out_of_stock', 'two rentals without SMS disable the number (NOVA_NUMBER_MAX_FAILURES=2)');
    const health = (await operator('provider:health')).json.providers;
    assert.ok(health.some((p: { numbers_disabled: number; numbers: number }) => p.numbers === 1 && p.numbers_disabled === 1));

    const enabled = await operator('numbers:enable', [numbers[0]!]);
    assert.deepEqual(enabled.json, { enabled: [numbers[0]] });
    const sold = await buy('ig');
    assert.equal(sold.status, 201, JSON.stringify(sold.body));
    assert.equal(sold.body.data.activation.number, numbers[0]);
    const unknown = await operator('numbers:enable', ['+12025550199']);
    assert.equal(unknown.error?.code, 'not_found');
  });

  it('forgets earlier failures once a number receives an SMS', async () => {
    const { numbers, buy, push, api } = await stock(1);
    assert.equal((await buy('tg')).status, 201);
    await expireOpenActivations();
    const answered = (await buy('wa')).body.data.activation;
    await push(numbers[0]!, 'Your WhatsApp code: 101-202');
    assert.equal((await api.post(`/api/v1/activations/${answered.id}/complete`)).status, 200);
    assert.equal((await buy('ig')).status, 201);
    await expireOpenActivations();
    // One failure since the SMS: still below the limit of 2, so still for sale (to a new service).
    await server.services.catalog.upsertService({ code: 'fb', name: 'Facebook' });
    await server.services.catalog.setPrice({ serviceCode: 'fb', countryId: 6, price: 4000 });
    assert.equal((await buy('fb')).status, 201);
  });

  it('rests a cancelled number for NOVA_CANCEL_COOLDOWN_S before anyone can buy it again', async () => {
    const { numbers, buy, api, operatorName } = await stock(1);
    const first = (await buy('tg')).body.data.activation;
    server.clock.advance(181);
    assert.equal((await api.post(`/api/v1/activations/${first.id}/cancel`)).status, 200);
    const during = await buy('wa');
    assert.equal(during.body.error?.code, 'out_of_stock');
    const prices = await api.get(`/api/v1/prices?service=wa&country=6`);
    assert.equal(prices.status, 200);
    server.clock.advance(599);
    assert.equal((await buy('wa')).body.error?.code, 'out_of_stock', 'still resting at 599 s');
    server.clock.advance(2);
    const after = await buy('wa');
    assert.equal(after.status, 201, JSON.stringify(after.body));
    assert.deepEqual([after.body.data.activation.number, after.body.data.activation.operator], [numbers[0], operatorName]);
  });

  it('counts a resting number out of the stock the catalog shows', async () => {
    const { buy, api } = await stock(1);
    const before = (await api.get('/api/v1/prices?service=ig&country=6')).body.data.available;
    const activation = (await buy('tg')).body.data.activation;
    server.clock.advance(181);
    await api.post(`/api/v1/activations/${activation.id}/cancel`);
    assert.equal((await api.get('/api/v1/prices?service=ig&country=6')).body.data.available, before - 1);
    server.clock.advance(601);
    assert.equal((await api.get('/api/v1/prices?service=ig&country=6')).body.data.available, before);
  });

  it('stores an SMS pushed twice (same number and text within 2 minutes) once, even when both copies arrive together', async () => {
    const { numbers, buy, push, api } = await stock(1);
    const activation = (await buy('tg')).body.data.activation;
    const copies = await Promise.all(Array.from({ length: 5 }, () => push(numbers[0]!, 'Telegram code: 77001')));
    assert.deepEqual(copies.map((c) => c.status), [200, 200, 200, 200, 200]);
    assert.equal(copies.filter((c) => c.body.data.duplicate === false).length, 1);
    assert.equal(new Set(copies.map((c) => c.body.data.sms_id)).size, 1);
    const other = await push(numbers[0]!, 'Telegram code: 77002');
    assert.equal(other.body.data.duplicate, false);
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.messages.length, 2);
  });

  it('lists SMS that matched no activation for the operator, newest first', async () => {
    const { numbers, push } = await stock(1);
    const text = `Microsoft account security code: ${Date.now() % 1_000_000}`;
    const kept = await push(numbers[0]!, text, 'Microsoft');
    assert.equal(kept.body.data.activation_id, null);
    const listed = await operator('sms:unmatched', ['--limit', '5']);
    assert.equal(listed.json.messages[0].id, kept.body.data.sms_id);
    assert.deepEqual([listed.json.messages[0].to, listed.json.messages[0].text], [numbers[0], text]);
    assert.match(listed.text, new RegExp(`#${kept.body.data.sms_id} .* to \\${numbers[0]} from Microsoft`));
  });

  it('reports per provider: last seen, SMS received, delivery rate and median time from purchase to code', async () => {
    const { numbers, buy, push, providerId } = await stock(3);
    const silent = await operator('provider:health');
    const fresh = silent.json.providers.find((p: { provider_id: number }) => p.provider_id === providerId);
    assert.deepEqual([fresh.last_seen_at, fresh.activations_sold, fresh.delivery_rate, fresh.median_seconds_to_code], [null, 0, null, null]);

    const first = (await buy('tg')).body.data.activation;
    const second = (await buy('tg')).body.data.activation;
    (await buy('tg')).body.data.activation;
    server.clock.advance(40);
    await push(first.number, 'Telegram code: 50001');
    server.clock.advance(20);
    await push(second.number, 'Telegram code: 50002');
    await push(numbers.find((n) => n !== first.number && n !== second.number)!, 'no code in this one', 'Operator');

    const report = await operator('provider:health', ['--json']);
    const row = report.json.providers.find((p: { provider_id: number }) => p.provider_id === providerId);
    assert.equal(row.sms_received, 3);
    assert.deepEqual([row.activations_sold, row.activations_with_sms], [3, 3]);
    assert.equal(row.median_seconds_to_code, 50, 'codes after 40 s and 60 s');
    assert.match(row.last_seen_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(report.text, new RegExp(`${providerId} .*3 SMS, 3/3 activations answered \\(100%\\), median 50 s to code`));
  });

  it('counts an activation without any SMS against the delivery rate', async () => {
    const { buy, push, providerId } = await stock(2);
    const answered = (await buy('tg')).body.data.activation;
    (await buy('tg')).body.data.activation;
    server.clock.advance(30);
    await push(answered.number, 'Telegram code: 60001');
    const row = (await operator('provider:health')).json.providers.find((p: { provider_id: number }) => p.provider_id === providerId);
    assert.deepEqual([row.activations_sold, row.activations_with_sms, row.delivery_rate, row.median_seconds_to_code], [2, 1, 0.5, 30]);
  });
});
