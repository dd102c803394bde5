import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runOperatorCommand } from '../../../src/cli/control-socket.ts';
import { type FakeSmshubAgent, startFakeSmshubAgent } from '../../support/fakes/smshub-agent.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { uniqueName } from '../../support/test-target.ts';

/**
 * SIM-bank agents speaking the SMSHub agent protocol, both directions, against a fake agent
 * server on loopback: stock (GET_SERVICES), leasing on purchase (GET_NUMBER), SMS (PUSH_SMS),
 * finishes (FINISH_ACTIVATION), and the agent's failure modes.
 */
describe('SIM-bank agents (SMSHub agent protocol)', () => {
  let server: TestServer;
  const agents: FakeSmshubAgent[] = [];
  let block = 0;

  before(async () => {
    server = await startTestServer({ env: { NOVA_REMOTE_TIMEOUT_MS: '400' } });
  });
  after(async () => {
    for (const agent of agents) await agent.close();
    await server.close();
  });

  /** A fake agent with `stock` UK numbers on an operator of its own, registered as an operator would. */
  async function agentWithStock(options: { operator?: string; stock?: number; pool?: number[] } = {}) {
    const operator = options.operator ?? uniqueName('ee').replaceAll('_', '');
    const base = 447700900000 + (++block % 90) * 10;
    const pool = options.pool ?? [base + 1, base + 2, base + 3];
    const agent = await startFakeSmshubAgent({
      key: uniqueName('key'),
      countryList: [{ country: 'england', operatorMap: { [operator]: { tg: options.stock ?? pool.length, wa: 0 } } }],
      pool,
      stallMs: 1500,
    });
    agents.push(agent);
    const reply = await runOperatorCommand(server.services, 'provider:create', [
      '--kind', 'smshub', '--name', uniqueName('simbank'), '--url', agent.url, '--countries', '6=usa,16=england', '--key', agent.key,
    ]);
    assert.ok(reply.ok, JSON.stringify(reply.error));
    return { agent, operator, pool, providerId: (reply.output!.json as { provider_id: number }).provider_id };
  }

  async function customer(credit = '10') {
    const { apiKey } = await server.createCompany(credit);
    const api = server.api(apiKey);
    return { api, buy: (operator: string) => api.post('/api/v1/activations', { service_code: 'tg', country_id: 16, operator }) };
  }

  async function until(check: () => boolean, what: string) {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(check(), what);
  }

  it('polls the agent stock (GET_SERVICES) into the catalog and sells an agent number (GET_NUMBER) when no local number is left', async () => {
    const { agent, operator, pool } = await agentWithStock();
    const before = (await server.api((await server.createCompany()).apiKey).get('/api/v1/prices?service=tg&country=16')).body.data.available;
    await server.jobs.remoteSupply.runOnce();
    const { api, buy } = await customer();
    assert.equal((await api.get('/api/v1/prices?service=tg&country=16')).body.data.available, before + 3);

    const bought = await buy(operator);
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    assert.equal(bought.body.data.activation.number, `+${pool[0]}`);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.4);
    const request = agent.requests.find((r) => r.action === 'GET_NUMBER')!;
    assert.deepEqual(request.body, { action: 'GET_NUMBER', key: agent.key, country: 'england', operator, service: 'tg', sum: 0.48, currency: 840 });
    assert.equal(request.gzip, true);
    assert.match(request.userAgent ?? '', /\S/);
  });

  it('takes PUSH_SMS from the agent, delivers the code once even when the agent resends, and refuses a wrong key or a string smsId', async () => {
    const { agent, operator } = await agentWithStock();
    await server.jobs.remoteSupply.runOnce();
    const { api, buy } = await customer();
    const activation = (await buy(operator)).body.data.activation;
    const phone = Number(activation.number.slice(1));
    const sms = { smsId: 9001, phone, phoneFrom: 'Telegram', text: 'Telegram code: 33708. Do not give this code to anyone' };
    const pushed = await agent.pushSms(server.url, sms);
    assert.deepEqual([pushed.status, pushed.body], [200, { status: 'SUCCESS' }]);
    const again = await agent.pushSms(server.url, sms);
    assert.deepEqual(again.body, { status: 'SUCCESS' });
    const seen = (await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation;
    assert.deepEqual([seen.code, seen.messages.length], ['33708', 1]);

    const wrongKey = await agent.pushSms(server.url, { ...sms, smsId: 9002 }, 'not-the-key');
    assert.deepEqual([wrongKey.status, wrongKey.body.status], [401, 'ERROR']);
    const stringId = await agent.pushSms(server.url, { ...sms, smsId: '9003' });
    assert.deepEqual([stringId.status, stringId.body.status], [400, 'ERROR']);
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.messages.length, 1);
  });

  it('tells the agent how each activation finished: 3 completed, 4 cancelled, 5 expired', async () => {
    const { agent, operator } = await agentWithStock();
    await server.jobs.remoteSupply.runOnce();
    const { api, buy } = await customer();
    const completed = (await buy(operator)).body.data.activation;
    const cancelled = (await buy(operator)).body.data.activation;
    assert.equal((await buy(operator)).status, 201, 'the third one is left to expire');
    const ids = agent.requests.filter((r) => r.action === 'GET_NUMBER').map((_, i) => 355 + i);
    await agent.pushSms(server.url, { smsId: 1, phone: Number(completed.number.slice(1)), phoneFrom: 'Telegram', text: 'Telegram code: 11111' });
    assert.equal((await api.post(`/api/v1/activations/${completed.id}/complete`)).status, 200);
    server.clock.advance(181);
    assert.equal((await api.post(`/api/v1/activations/${cancelled.id}/cancel`)).status, 200);
    server.clock.advance(1100);
    await server.jobs.sweeper.runOnce();
    await until(() => agent.finishes.length === 3, `three finishes, got ${JSON.stringify(agent.finishes)}`);
    assert.deepEqual(
      [...agent.finishes].sort((a, b) => a.activationId - b.activationId),
      [
        { activationId: ids[0], status: 3 },
        { activationId: ids[1], status: 4 },
        { activationId: ids[2], status: 5 },
      ],
    );
  });

  it('falls back past an agent that times out, one with a malformed reply and one with NO_NUMBERS, charging once', async () => {
    const operator = uniqueName('o2').replaceAll('_', '');
    const slow = await agentWithStock({ operator, stock: 40 });
    slow.agent.behave('GET_NUMBER', 'timeout');
    const broken = await agentWithStock({ operator, stock: 30 });
    broken.agent.behave('GET_NUMBER', 'string-fields');
    const empty = await agentWithStock({ operator, stock: 20 });
    empty.agent.behave('GET_NUMBER', 'no-numbers');
    const good = await agentWithStock({ operator, stock: 10 });
    await server.jobs.remoteSupply.runOnce();
    const { api, buy } = await customer();
    const bought = await buy(operator);
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    assert.equal(bought.body.data.activation.number, `+${good.pool[0]}`);
    for (const tried of [slow, broken, empty, good]) assert.equal(tried.agent.requests.filter((r) => r.action === 'GET_NUMBER').length, 1);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 9.4);
  });

  it('answers out_of_stock and charges nothing when every agent fails', async () => {
    const operator = uniqueName('vf').replaceAll('_', '');
    const down = await agentWithStock({ operator });
    await server.jobs.remoteSupply.runOnce();
    down.agent.behave('GET_NUMBER', 'error');
    const { api, buy } = await customer();
    const refused = await buy(operator);
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'out_of_stock']);
    assert.equal((await api.get('/api/v1/balance')).body.data.balance, 10);
    assert.equal((await api.get('/api/v1/activations')).body.data.total, 0);
  });

  it('gives back (status 1) a number the agent hands out again for a service it was already sold for, and charges nothing', async () => {
    const operator = uniqueName('tm').replaceAll('_', '');
    const number = 447700955500 + (++block % 90);
    const { agent } = await agentWithStock({ operator, pool: [number, number] });
    await server.jobs.remoteSupply.runOnce();
    const first = await customer();
    const sold = (await first.buy(operator)).body.data.activation;
    await agent.pushSms(server.url, { smsId: 77, phone: number, phoneFrom: 'Telegram', text: 'Telegram code: 22222' });
    await first.api.post(`/api/v1/activations/${sold.id}/complete`);
    const second = await customer();
    const refused = await second.buy(operator);
    assert.equal(refused.body.error?.code, 'out_of_stock', JSON.stringify(refused.body));
    assert.equal((await second.api.get('/api/v1/balance')).body.data.balance, 10);
    await until(() => agent.finishes.some((f) => f.status === 1), `a status-1 finish, got ${JSON.stringify(agent.finishes)}`);
  });

  it('resends a finish the agent did not acknowledge until it does', async () => {
    const { agent, operator } = await agentWithStock();
    await server.jobs.remoteSupply.runOnce();
    const { api, buy } = await customer();
    const activation = (await buy(operator)).body.data.activation;
    agent.behave('FINISH_ACTIVATION', 'error');
    server.clock.advance(181);
    await api.post(`/api/v1/activations/${activation.id}/cancel`);
    await until(() => agent.requests.some((r) => r.action === 'FINISH_ACTIVATION'), 'a first finish attempt');
    assert.equal(agent.finishes.length, 0);
    agent.behave('FINISH_ACTIVATION', 'normal');
    await server.jobs.remoteSupply.runOnce();
    assert.deepEqual(agent.finishes, [{ activationId: 355, status: 4 }]);
    await server.jobs.remoteSupply.runOnce();
    assert.equal(agent.finishes.length, 1, 'acknowledged finishes are not sent again');
  });

  it('gives back a leased number whose purchase never finished (the process died in between) after 5 minutes', async () => {
    const { agent, operator } = await agentWithStock();
    await server.jobs.remoteSupply.runOnce();
    // What a purchase does first, without the sale that would follow it.
    const lease = await server.services.supply.leaseRemoteNumber({ serviceCode: 'tg', countryId: 16, operator, price: 6000 });
    assert.ok(lease);
    server.clock.advance(240);
    await server.jobs.remoteSupply.runOnce();
    assert.equal(agent.finishes.length, 0, 'not before 5 minutes');
    server.clock.advance(61);
    await server.jobs.remoteSupply.runOnce();
    assert.deepEqual(agent.finishes, [{ activationId: 355, status: 4 }]);
  });

  it('stops selling an agent whose stock request fails or answers garbage', async () => {
    const { agent, operator } = await agentWithStock();
    await server.jobs.remoteSupply.runOnce();
    agent.behave('GET_SERVICES', 'malformed');
    await server.jobs.remoteSupply.runOnce();
    const { buy } = await customer();
    assert.equal((await buy(operator)).body.error?.code, 'out_of_stock');
    assert.equal(agent.requests.filter((r) => r.action === 'GET_NUMBER').length, 0);
  });
});
