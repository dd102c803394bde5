import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runOperatorCommand } from '../../../src/cli/control-socket.ts';
import { type FakeUpstream, startFakeUpstream } from '../../support/fakes/sms-activate-upstream.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { uniqueName } from '../../support/test-target.ts';

/**
 * Reselling upstream providers that speak sms-activate's handler_api.php, against fake upstream
 * servers on loopback. All tests buy tg in the UK (our price 0.60 USD, markup 20 %: an upstream
 * number may cost us at most 0.50 USD).
 */
describe('upstream providers (sms-activate handler_api.php)', () => {
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

  /** Closes the previous test's upstreams and refreshes: only this test's upstreams have stock. */
  async function upstreams(...offers: { cost: number; count?: number }[]) {
    for (const upstream of open.splice(0)) await upstream.close();
    const created: { upstream: FakeUpstream; pool: string[] }[] = [];
    for (const offer of offers) {
      const base = 447700800000 + (++block % 900) * 10;
      const pool = [String(base + 1), String(base + 2), String(base + 3)];
      const upstream = await startFakeUpstream({ apiKey: uniqueName('up'), prices: { '16': { tg: { cost: offer.cost, count: offer.count ?? 3 } } }, pool, stallMs: 1500 });
      open.push(upstream);
      const reply = await runOperatorCommand(server.services, 'provider:create', [
        '--kind', 'sms-activate', '--name', uniqueName('upstream'), '--url', upstream.url, '--api-key', upstream.apiKey, '--countries', '16=16', '--markup', '20',
      ]);
      assert.ok(reply.ok, JSON.stringify(reply.error));
      created.push({ upstream, pool });
    }
    await server.jobs.remoteSupply.runOnce();
    return created;
  }

  async function customer() {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    return { api, buy: () => api.post('/api/v1/activations', { service_code: 'tg', country_id: 16 }) };
  }

  const numberCalls = (upstream: FakeUpstream) => upstream.calls.filter((c) => c.action === 'getNumber').length;

  it('resells the cheapest upstream with stock when local stock is empty, never one that leaves no margin', async () => {
    const [dear, cheap, tooDear] = await upstreams({ cost: 0.4 }, { cost: 0.3 }, { cost: 0.55, count: 50 });
    const { api, buy } = await customer();
    const bought = await buy();
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    assert.equal(bought.body.data.activation.number, `+${cheap!.pool[0]}`);
    assert.deepEqual([numberCalls(cheap!.upstream), numberCalls(dear!.upstream), numberCalls(tooDear!.upstream)], [1, 0, 0]);
    const call = cheap!.upstream.calls.find((c) => c.action === 'getNumber')!;
    assert.deepEqual([call.params.service, call.params.country, call.params.api_key], ['tg', '16', cheap!.upstream.apiKey]);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.4);
  });

  it('falls back past upstreams that time out, answer garbage or NO_NUMBERS, and charges nothing when all fail', async () => {
    const [slow, broken, empty, good] = await upstreams({ cost: 0.1 }, { cost: 0.2 }, { cost: 0.3 }, { cost: 0.4 });
    slow!.upstream.behave('getNumber', 'timeout');
    broken!.upstream.behave('getNumber', 'malformed');
    empty!.upstream.behave('getNumber', 'no-numbers');
    const first = await customer();
    const bought = await first.buy();
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    assert.equal(bought.body.data.activation.number, `+${good!.pool[0]}`);
    for (const tried of [slow, broken, empty, good]) assert.equal(numberCalls(tried!.upstream), 1);

    good!.upstream.behave('getNumber', 'bad-key');
    const second = await customer();
    const refused = await second.buy();
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'out_of_stock']);
    assert.equal((await second.api.get('/api/v1/balance')).body.data.balance, 10);
    assert.equal((await second.api.get('/api/v1/activations')).body.data.total, 0);
  });

  it('polls the upstream for the code (getStatus) and closes the activation there on complete (setStatus 6)', async () => {
    const [only] = await upstreams({ cost: 0.3 });
    const { api, buy } = await customer();
    const activation = (await buy()).body.data.activation;
    await server.jobs.remoteSupply.runOnce();
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.status, 'waiting');
    only!.upstream.receiveCode(only!.pool[0]!, '481516');
    await server.jobs.remoteSupply.runOnce();
    const seen = (await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation;
    assert.deepEqual([seen.status, seen.code, seen.messages.length], ['sms_received', '481516', 1]);
    assert.equal((await api.post(`/api/v1/activations/${activation.id}/complete`)).status, 200);
    await server.jobs.remoteSupply.runOnce();
    assert.equal([...only!.upstream.activations.values()][0]!.status, 'finished');
  });

  it('cancels upstream (setStatus 8) on cancel and on expiry, retrying while the upstream refuses an early cancel', async () => {
    const [only] = await upstreams({ cost: 0.3 });
    const { api, buy } = await customer();
    const cancelled = (await buy()).body.data.activation;
    const expiring = (await buy()).body.data.activation;
    only!.upstream.behave('setStatus', 'early-cancel-denied');
    server.clock.advance(181);
    assert.equal((await api.post(`/api/v1/activations/${cancelled.id}/cancel`)).status, 200);
    await server.jobs.remoteSupply.runOnce();
    const statusOf = (number: string) => [...only!.upstream.activations.values()].find((a) => a.number === number.slice(1))!.status;
    assert.equal(statusOf(cancelled.number), 'waiting', 'the upstream refused the early cancel');
    only!.upstream.behave('setStatus', 'normal');
    server.clock.advance(1100);
    await server.jobs.sweeper.runOnce();
    await server.jobs.remoteSupply.runOnce();
    assert.deepEqual([statusOf(cancelled.number), statusOf(expiring.number)], ['cancelled', 'cancelled']);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 10, 'both refunded');
  });

  it('ends the activation as cancelled and refunds it once as soon as the upstream answers STATUS_CANCEL', async () => {
    const [only] = await upstreams({ cost: 0.3 });
    const { api, buy } = await customer();
    const activation = (await buy()).body.data.activation;
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.4);
    const upstreamSide = [...only!.upstream.activations.values()].find((a) => a.number === activation.number.slice(1))!;
    upstreamSide.status = 'cancelled'; // the upstream gave up on the number: getStatus now answers STATUS_CANCEL
    await server.jobs.remoteSupply.runOnce();
    const seen = (await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation;
    assert.equal(seen.status, 'cancelled', 'within the customer cancel delay, without waiting for expiry');
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 10);
    const polls = only!.upstream.calls.filter((c) => c.action === 'getStatus').length;
    await server.jobs.remoteSupply.runOnce();
    server.clock.advance(1300);
    await server.jobs.sweeper.runOnce();
    await server.jobs.remoteSupply.runOnce();
    assert.equal(only!.upstream.calls.filter((c) => c.action === 'getStatus').length, polls, 'a finished activation is not polled again');
    assert.equal((await api.get('/api/v1/activations/' + activation.id)).body.data.activation.status, 'cancelled');
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 10, 'refunded exactly once');
    assert.equal((await api.post(`/api/v1/activations/${activation.id}/cancel`)).body.error?.code, 'invalid_state');
  });
});
