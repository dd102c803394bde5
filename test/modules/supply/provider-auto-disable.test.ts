import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runOperatorCommand } from '../../../src/cli/control-socket.ts';
import { type FakeUpstream, startFakeUpstream } from '../../support/fakes/sms-activate-upstream.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { uniqueName } from '../../support/test-target.ts';

/**
 * A whole provider leaves stock after repeated failures (NOVA_PROVIDER_MAX_FAILURES=3 here):
 * a provider holding its own numbers when its last 3 finished activations got no SMS, a remote
 * upstream when its last 3 calls failed. `provider:enable` puts it back.
 */
describe('automatic disabling of failing providers', () => {
  let server: TestServer;
  const upstreams: FakeUpstream[] = [];

  before(async () => {
    server = await startTestServer({ env: { NOVA_PROVIDER_MAX_FAILURES: '3', NOVA_REMOTE_TIMEOUT_MS: '400' } });
  });
  after(async () => {
    for (const upstream of upstreams) await upstream.close();
    await server.close();
  });

  // Command output is untyped JSON; tests read its fields.
  async function operator(name: string, args: string[] = []): Promise<{ ok: boolean; json: any; text: string; error?: { code: string } }> {
    const reply = await runOperatorCommand(server.services, name, args);
    return { ok: reply.ok, json: reply.output?.json, text: reply.output?.text ?? '', error: reply.error };
  }

  async function healthOf(providerId: number) {
    const report = await operator('provider:health');
    return { row: report.json.providers.find((p: { provider_id: number }) => p.provider_id === providerId), text: report.text };
  }

  /** A provider with numbers on an operator of its own, so a test buys exactly its numbers. */
  async function localProvider(count: number) {
    const operatorName = uniqueName('op');
    const provider = await server.createProvider({ count, operator: operatorName });
    const { apiKey } = await server.createCompany('20');
    const api = server.api(apiKey);
    const buy = (service: string) => api.post('/api/v1/activations', { service_code: service, country_id: 6, operator: operatorName });
    const push = (to: string, text: string) => server.api(provider.secret).post('/api/v1/supply/sms', { to, from: 'Telegram', text });
    return { ...provider, api, buy, push };
  }

  async function expireOpenActivations() {
    server.clock.advance(1201);
    await server.jobs.sweeper.runOnce();
  }

  it('takes a provider off sale when its last N activations all ended without SMS, until an operator enables it', async () => {
    const { providerId, buy, push, numbers } = await localProvider(3);
    for (let i = 0; i < 3; i++) assert.equal((await buy('tg')).status, 201);
    await expireOpenActivations();

    const { row, text } = await healthOf(providerId);
    assert.deepEqual([row.enabled, row.disabled_reason], [false, 'last 3 activations ended without any SMS']);
    assert.match(row.disabled_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(text, new RegExp(`${providerId} .*disabled since .*: last 3 activations ended without any SMS`));
    const refused = await buy('wa');
    assert.deepEqual([refused.status, refused.body.error?.code], [409, 'out_of_stock'], 'its numbers left stock');
    const late = await push(numbers[0]!, 'Telegram code: 80001');
    assert.equal(late.status, 200, 'a disabled provider still delivers: its SMS are kept, never refused');
    assert.equal((await operator('sms:unmatched', ['--limit', '1'])).json.messages[0].id, late.body.data.sms_id);

    const enabled = await operator('provider:enable', ['--provider', String(providerId)]);
    assert.ok(enabled.ok, JSON.stringify(enabled.error));
    assert.equal(enabled.json.provider.enabled, true);
    assert.deepEqual([(await healthOf(providerId)).row.enabled, (await healthOf(providerId)).row.disabled_reason], [true, null]);
    const sold = await buy('wa');
    assert.equal(sold.status, 201, JSON.stringify(sold.body));
    await expireOpenActivations();
    assert.equal((await healthOf(providerId)).row.enabled, true, 'the failures before it was enabled no longer count');

    assert.equal((await operator('provider:enable', ['--provider', '999999'])).error?.code, 'not_found');
    assert.equal((await operator('provider:enable', [])).error?.code, 'invalid_request');
  });

  it('keeps a provider on sale while any of its last N activations got an SMS', async () => {
    const { providerId, buy, push } = await localProvider(3);
    const bought = [];
    for (let i = 0; i < 3; i++) bought.push((await buy('tg')).body.data.activation);
    assert.equal((await push(bought[1].number, 'Telegram code: 70001')).status, 200);
    await expireOpenActivations();
    assert.equal((await healthOf(providerId)).row.enabled, true);
    assert.equal((await buy('wa')).status, 201);
  });

  it('disables an upstream after N failed calls in a row (a good answer resets the count) and resells it once enabled', async () => {
    const upstream = await startFakeUpstream({ apiKey: uniqueName('up'), prices: { '16': { tg: { cost: 0.3, count: 5 } } }, pool: ['447700811001', '447700811002'] });
    upstreams.push(upstream);
    const created = await operator('provider:create', [
      '--kind', 'sms-activate', '--name', uniqueName('upstream'), '--url', upstream.url, '--api-key', upstream.apiKey, '--countries', '16=16', '--markup', '20',
    ]);
    assert.ok(created.ok, JSON.stringify(created.error));
    const providerId: number = created.json.provider_id;
    assert.ok(Number.isInteger(providerId), JSON.stringify(created.json));
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const buy = () => api.post('/api/v1/activations', { service_code: 'tg', country_id: 16 });
    const pricesCalls = () => upstream.calls.filter((c) => c.action === 'getPrices').length;

    upstream.behave('getPrices', 'malformed');
    for (let i = 0; i < 2; i++) await server.jobs.remoteSupply.runOnce();
    upstream.behave('getPrices', 'normal');
    await server.jobs.remoteSupply.runOnce();
    upstream.behave('getPrices', 'malformed');
    for (let i = 0; i < 2; i++) await server.jobs.remoteSupply.runOnce();
    assert.equal((await healthOf(providerId)).row.enabled, true, 'two failures, one good answer, two failures: never 3 in a row');

    await server.jobs.remoteSupply.runOnce();
    const { row } = await healthOf(providerId);
    assert.equal(row.enabled, false);
    assert.match(row.disabled_reason, /^last 3 calls failed, the last one: getPrices: not JSON/);
    upstream.behave('getPrices', 'normal');
    const callsWhileDisabled = pricesCalls();
    await server.jobs.remoteSupply.runOnce();
    assert.equal(pricesCalls(), callsWhileDisabled, 'a disabled upstream is not polled');
    assert.equal((await buy()).body.error?.code, 'out_of_stock');

    assert.ok((await operator('provider:enable', ['--provider', String(providerId)])).ok);
    await server.jobs.remoteSupply.runOnce();
    const sold = await buy();
    assert.equal(sold.status, 201, JSON.stringify(sold.body));
    assert.equal(sold.body.data.activation.number, '+447700811001');
    assert.equal((await healthOf(providerId)).row.enabled, true);
  });
});
