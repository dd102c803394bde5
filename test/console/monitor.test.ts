import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeUpstream, startFakeUpstream } from '../support/fakes/sms-activate-upstream.ts';
import { type FakeSmshubAgent, startFakeSmshubAgent } from '../support/fakes/smshub-agent.ts';
import { consoleClient, type SignedInStaff, signInStaff } from '../support/console-client.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { type ApiClient, startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';
import { signUp } from '../web/web-client.ts';

/**
 * The activations monitor over a known history on a fresh server, its clock moved by hand:
 *   2026-04-20  X0 tg/US on A, code after 10 s, completed           (older than 30 days)
 *   2026-05-30  X1 tg/US on A, code after 20 s, completed
 *               X2 tg/UK on B, no SMS, cancelled (refunded)
 *   2026-06-02  X3 tg/US on A, code after 30 s, completed
 *               X4 wa/US on A, code after 60 s, still open
 *               X5 tg/UK on B, code after 40 s, still open
 * Prices: tg/US 0.50, wa/US 0.75, tg/UK 0.60. Provider A costs 0.05 a number, B 0.10.
 */
describe('console: activations monitor', () => {
  const clock = new ManualClock(new Date('2026-04-20T10:00:00Z'));
  let server: TestServer;
  let admin: SignedInStaff;
  let support: SignedInStaff;
  let companyId: number;
  const ids: Record<string, number> = {};
  const providers = { a: 0, b: 0 };

  before(async () => {
    server = await startTestServer({ clock });
    admin = await signInStaff(server, 'admin');
    const company = await server.createCompany('20');
    companyId = company.companyId;
    const api = server.api(company.apiKey);
    const a = await admin.client.post('/supply/providers', { name: uniqueName('a'), kind: 'http', cost_per_number: 0.05 });
    const b = await admin.client.post('/supply/providers', { name: uniqueName('b'), kind: 'http', cost_per_number: 0.1 });
    providers.a = a.body.data.provider.id;
    providers.b = b.body.data.provider.id;
    const secrets = { a: a.body.data.credentials.secret as string, b: b.body.data.credentials.secret as string };
    const imported = [
      await admin.client.post(`/supply/providers/${providers.a}/numbers/import`, { csv: ['+19175552001,6', '+19175552002,6', '+19175552003,6', '+19175552004,6'].join('\n') }),
      await admin.client.post(`/supply/providers/${providers.b}/numbers/import`, { csv: ['+447700900501,16', '+447700900502,16'].join('\n') }),
    ];
    for (const answer of imported) assert.equal(answer.status, 200, JSON.stringify(answer.body));

    const buy = async (name: string, service: string, country: number) => {
      const bought = await api.post('/api/v1/activations', { service_code: service, country_id: country });
      assert.equal(bought.status, 201, `${name}: ${JSON.stringify(bought.body)}`);
      ids[name] = bought.body.data.activation.id;
      return bought.body.data.activation as { id: number; number: string };
    };
    const code = async (secret: string, activation: { number: string }, afterSeconds: number) => {
      clock.advance(afterSeconds);
      const pushed = await server.api(secret).post('/api/v1/supply/sms', { to: activation.number, from: 'Service', text: 'Your code: 12345' });
      assert.equal(pushed.body.data.code, '12345');
    };
    const complete = async (name: string) => assert.equal((await api.post(`/api/v1/activations/${ids[name]}/complete`)).status, 200);

    await code(secrets.a, await buy('X0', 'tg', 6), 10);
    await complete('X0');

    clock.advance(40 * 86_400 - 10); // 2026-05-30 10:00
    await code(secrets.a, await buy('X1', 'tg', 6), 20);
    await complete('X1');
    await buy('X2', 'tg', 16);
    clock.advance(200);
    assert.equal((await api.post(`/api/v1/activations/${ids.X2}/cancel`)).status, 200);

    clock.advance(3 * 86_400 - 3600 - 220); // 2026-06-02 ~09:00
    await code(secrets.a, await buy('X3', 'tg', 6), 30);
    await complete('X3');
    await code(secrets.a, await buy('X4', 'wa', 6), 60);
    await code(secrets.b, await buy('X5', 'tg', 16), 40);
    await checkClockDay('2026-06-02');
    // Staff sessions do not last the 43 days the scenario spans: sign in as of "today".
    admin = await signInStaff(server, 'admin');
    support = await signInStaff(server, 'support');
  });
  after(async () => {
    await server.close();
  });

  async function checkClockDay(day: string) {
    assert.equal(clock.now().toISOString().slice(0, 10), day, 'the scenario drifted off its days');
  }

  it('totals today and the last 30 days: sold, refunded, revenue, supply cost and margin from real purchases', async () => {
    const summary = await admin.client.get('/monitor/summary');
    assert.equal(summary.status, 200, JSON.stringify(summary.body));
    const { today, last_30_days: month, daily } = summary.body.data;
    assert.deepEqual(today, { from: '2026-06-02', to: '2026-06-02', sold: 3, charged: 1.85, refunded: 0, refunded_amount: 0, revenue: 1.85, supply_cost: 0.2, margin: 1.65 });
    assert.deepEqual(month, { from: '2026-05-04', to: '2026-06-02', sold: 5, charged: 2.95, refunded: 1, refunded_amount: 0.6, revenue: 2.35, supply_cost: 0.25, margin: 2.1 });
    assert.equal(daily.length, 30);
    assert.equal(daily[0].day, '2026-05-04');
    assert.deepEqual(daily[29], { day: '2026-06-02', sold: 3, refunded: 0, revenue: 1.85, supply_cost: 0.2, margin: 1.65 });
    assert.deepEqual(daily.find((d: { day: string }) => d.day === '2026-05-30'), { day: '2026-05-30', sold: 2, refunded: 1, revenue: 0.5, supply_cost: 0.05, margin: 0.45 });
    assert.deepEqual(daily.find((d: { day: string }) => d.day === '2026-05-31'), { day: '2026-05-31', sold: 0, refunded: 0, revenue: 0, supply_cost: 0, margin: 0 });
  });

  it('per provider and per service × country: delivery rate, median seconds to code, revenue, cost and margin', async () => {
    const answer = await admin.client.get('/monitor/breakdown');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const { by_provider: byProvider, by_service_country: byPair } = answer.body.data;
    const a = byProvider.find((p: { provider: { id: number } }) => p.provider.id === providers.a);
    const b = byProvider.find((p: { provider: { id: number } }) => p.provider.id === providers.b);
    assert.deepEqual(
      { ...a, provider: a.provider.id },
      { provider: providers.a, activations: 3, delivered: 3, delivery_rate: 1, median_seconds_to_code: 30, revenue: 1.75, supply_cost: 0.15, margin: 1.6 },
    );
    assert.deepEqual(
      { ...b, provider: b.provider.id },
      { provider: providers.b, activations: 2, delivered: 1, delivery_rate: 0.5, median_seconds_to_code: 40, revenue: 0.6, supply_cost: 0.1, margin: 0.5 },
    );
    assert.equal(a.provider.kind, 'http');
    const tgUs = byPair.find((r: { service: string; country_id: number }) => r.service === 'tg' && r.country_id === 6);
    assert.deepEqual(tgUs, { service: 'tg', country_id: 6, activations: 2, delivered: 2, delivery_rate: 1, median_seconds_to_code: 25, revenue: 1, supply_cost: 0.1, margin: 0.9 });
    assert.equal(byPair[0].activations, 2, 'most activations first');

    const today = await admin.client.get('/monitor/breakdown?days=1');
    assert.equal(today.body.data.from, '2026-06-02');
    assert.deepEqual(
      today.body.data.by_service_country.map((r: { service: string; country_id: number; activations: number }) => [r.service, r.country_id, r.activations]).sort(),
      [['tg', 16, 1], ['tg', 6, 1], ['wa', 6, 1]],
    );
    assert.equal((await admin.client.get('/monitor/breakdown?days=91')).status, 400);
  });

  it('lists activations across companies, filtered by status, service, country, provider, company and days', async () => {
    const list = async (query: string) => {
      const answer = await admin.client.get(`/monitor/activations?${query}`);
      assert.equal(answer.status, 200, `${query}: ${JSON.stringify(answer.body)}`);
      return answer.body.data as { activations: { id: number }[]; total: number };
    };
    const idsOf = (page: { activations: { id: number }[] }) => page.activations.map((a) => a.id);
    const all = await list(`company_id=${companyId}`);
    assert.equal(all.total, 6);
    assert.deepEqual(idsOf(all), [ids.X5, ids.X4, ids.X3, ids.X2, ids.X1, ids.X0]);
    const x3 = (all.activations as unknown as Record<string, unknown>[])[2];
    assert.deepEqual(x3.company, { id: companyId, name: (x3.company as { name: string }).name });
    assert.equal((x3.provider as { id: number }).id, providers.a);
    assert.equal(x3.supply_cost, 0.05);
    assert.equal(x3.price, 0.5);
    assert.equal(x3.code, '12345');
    assert.equal(x3.status, 'completed');

    assert.deepEqual(idsOf(await list('status=cancelled')), [ids.X2]);
    assert.deepEqual(idsOf(await list('service=wa')), [ids.X4]);
    assert.deepEqual(idsOf(await list(`provider_id=${providers.b}`)), [ids.X5, ids.X2]);
    assert.deepEqual(idsOf(await list('country_id=16&status=sms_received')), [ids.X5]);
    assert.deepEqual(idsOf(await list('from=2026-06-02&to=2026-06-02')), [ids.X5, ids.X4, ids.X3]);
    assert.deepEqual(idsOf(await list('from=2026-05-01&to=2026-05-31')), [ids.X2, ids.X1]);
    const page = await list(`company_id=${companyId}&limit=2&offset=2`);
    assert.deepEqual(idsOf(page), [ids.X3, ids.X2]);
    assert.equal(page.total, 6);

    for (const bad of ['from=2026-02-31', 'to=yesterday', 'status=lost', 'limit=0', 'country_id=abc']) {
      const answer = await admin.client.get(`/monitor/activations?${bad}`);
      assert.equal(answer.status, 400, bad);
      assert.equal(answer.body.error.code, 'invalid_request', bad);
    }
  });

  it('support may look activations up, without what they cost us; the money figures are for admins; customers and anonymous get 403', async () => {
    const seen = await support.client.get(`/monitor/activations?company_id=${companyId}`);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.data.total, 6);
    assert.ok(seen.body.data.activations.every((a: { supply_cost: unknown }) => a.supply_cost === null));
    for (const path of ['/monitor/summary', '/monitor/breakdown']) {
      const answer = await support.client.get(path);
      assert.equal(answer.status, 403, path);
      assert.equal(answer.body.error.code, 'forbidden');
    }
    const anonymous = consoleClient(server.url);
    await anonymous.start();
    const { client: customer } = await signUp(server);
    for (const path of ['/monitor/activations', '/monitor/summary', '/monitor/breakdown']) {
      assert.equal((await anonymous.get(path)).status, 403, path);
      const asCustomer = await fetch(`${server.url}/api/console${path}`, { headers: { cookie: [...customer.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
      assert.equal(asCustomer.status, 403, path);
    }
  });
});

describe('console: supply cost of leased numbers', () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let upstream: FakeUpstream;
  let agent: FakeSmshubAgent;

  before(async () => {
    server = await startTestServer({ env: { NOVA_REMOTE_TIMEOUT_MS: '1000' } });
    admin = await signInStaff(server, 'admin');
  });
  after(async () => {
    await upstream?.close();
    await agent?.close();
    await server.close();
  });

  const costOf = async (activationId: number) => {
    const listed = await admin.client.get(`/monitor/activations?limit=200`);
    return listed.body.data.activations.find((a: { id: number }) => a.id === activationId);
  };

  it('records the upstream’s cost for a resold number and the agent’s payout share for an SMSHub number', async () => {
    upstream = await startFakeUpstream({ apiKey: uniqueName('up'), prices: { '16': { tg: { cost: 0.3, count: 3 } } }, pool: ['447700800101', '447700800102'] });
    const operator = uniqueName('ee').replaceAll('_', '');
    agent = await startFakeSmshubAgent({ key: uniqueName('key'), countryList: [{ country: 'england', operatorMap: { [operator]: { tg: 2 } } }], pool: [447700800201, 447700800202] });
    const up = await admin.client.post('/supply/providers', {
      name: uniqueName('upstream'),
      kind: 'sms-activate',
      url: upstream.url,
      api_key: upstream.apiKey,
      countries: { '16': '16' },
      markup_percent: 20,
    });
    const hub = await admin.client.post('/supply/providers', {
      name: uniqueName('simbank'),
      kind: 'smshub',
      url: agent.url,
      key: agent.key,
      countries: { '16': 'england' },
      payout_percent: 70,
    });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal(hub.status, 201, JSON.stringify(hub.body));
    await server.jobs.remoteSupply.runOnce();

    const { apiKey } = await server.createCompany('5');
    const api: ApiClient = server.api(apiKey);
    // tg in the UK sells at 0.60: the upstream's number costs 0.30, the agent is offered 70 % = 0.42.
    const resold = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 16 });
    assert.equal(resold.status, 201, JSON.stringify(resold.body));
    const fromAgent = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 16, operator });
    assert.equal(fromAgent.status, 201, JSON.stringify(fromAgent.body));

    const resoldRow = await costOf(resold.body.data.activation.id);
    assert.equal(resoldRow.provider.id, up.body.data.provider.id);
    assert.equal(resoldRow.supply_cost, 0.3);
    const agentRow = await costOf(fromAgent.body.data.activation.id);
    assert.equal(agentRow.provider.id, hub.body.data.provider.id);
    assert.equal(agentRow.supply_cost, 0.42);
  });
});
