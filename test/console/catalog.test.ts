import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { markupPrice } from '../../src/modules/catalog/pricing.service.ts';
import { type SignedInStaff, consoleClient, signInStaff } from '../support/console-client.ts';
import { type FakeUpstream, startFakeUpstream } from '../support/fakes/sms-activate-upstream.ts';
import { type ApiResponse, type TestServer, startTestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';

/**
 * Catalog and pricing in the console: every change takes effect at once in the public API and
 * price table, writes its audit entry, and is for admins only. The test server seeds tg and wa,
 * countries 6 (US) and 16 (UK), prices tg/6 0.50, wa/6 0.75, tg/16 0.60.
 */

function dataOf(response: ApiResponse) {
  assert.equal(response.status, 200, `expected 200, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.ok, true);
  return response.body.data;
}

function assertError(response: ApiResponse, status: number, code: string, message?: RegExp) {
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.error.code, code);
  if (message) assert.match(response.body.error.message, message);
}

/** The newest audit entry of an action on a target. */
async function newestAudit(server: TestServer, action: string, targetId: string) {
  const [entry] = await server.services.audit.list({ action, targetId, limit: 1 });
  assert.ok(entry, `no audit entry ${action} ${targetId}`);
  // before/after are JSON the test asserts on field by field.
  return entry as typeof entry & { before: any; after: any };
}

describe('console catalog and pricing', { timeout: 120_000 }, () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let apiKey: string;

  before(async () => {
    server = await startTestServer();
    admin = await signInStaff(server, 'admin');
    apiKey = (await server.createCompany('10')).apiKey;
  });
  after(async () => {
    await server?.close();
  });

  const lastAudit = (action: string, targetId: string) => newestAudit(server, action, targetId);

  async function publicPrice(service: string, country: number) {
    const api = dataOf(await server.api(apiKey).get(`/api/v1/prices?service=${service}&country=${country}`));
    const web = dataOf(await server.api().get('/api/web/prices')).prices.find((p: { service: string; country: number }) => p.service === service && p.country === country);
    return { api: api.price as number, web: (web?.price ?? null) as number | null };
  }

  it('creates a service, audited, listed at once in the API; refuses a duplicate and a bad code', async () => {
    const created = dataOf(await admin.client.post('/catalog/services', { code: 'vb', name: 'Viber' }));
    assert.deepEqual(created.service, { code: 'vb', name: 'Viber', enabled: true });
    const entry = await lastAudit('service.create', 'vb');
    assert.equal(entry.actor, `staff:${admin.email}`);
    assert.equal(entry.staffId, admin.staffId);
    assert.deepEqual(entry.after, { code: 'vb', name: 'Viber', enabled: true });
    const services = dataOf(await server.api(apiKey).get('/api/v1/services')).services;
    assert.ok(services.some((s: { code: string }) => s.code === 'vb'));

    assertError(await admin.client.post('/catalog/services', { code: 'vb', name: 'Again' }), 409, 'conflict');
    assertError(await admin.client.post('/catalog/services', { code: 'Bad Code', name: 'X' }), 400, 'invalid_request', /Service code/);
    assertError(await admin.client.post('/catalog/services', { code: 'ok' }), 400, 'invalid_request');
  });

  it('disables a service: gone from the API and the price table and not for sale; enabling brings it back', async () => {
    const disabled = dataOf(await admin.client.post('/catalog/services/wa', { enabled: false }));
    assert.deepEqual(disabled.service, { code: 'wa', name: 'WhatsApp', enabled: false });
    const entry = await lastAudit('service.update', 'wa');
    assert.deepEqual([entry.before, entry.after], [
      { code: 'wa', name: 'WhatsApp', enabled: true },
      { code: 'wa', name: 'WhatsApp', enabled: false },
    ]);
    const services = dataOf(await server.api(apiKey).get('/api/v1/services')).services;
    assert.ok(!services.some((s: { code: string }) => s.code === 'wa'));
    const table = dataOf(await server.api().get('/api/web/prices')).prices;
    assert.ok(!table.some((p: { service: string }) => p.service === 'wa'));
    assertError(await server.api(apiKey).post('/api/v1/activations', { service_code: 'wa', country_id: 6 }), 404, 'unknown_service');
    // Still listed for staff, with its flag.
    const catalog = dataOf(await admin.client.get('/catalog'));
    assert.deepEqual(catalog.services.find((s: { code: string }) => s.code === 'wa'), { code: 'wa', name: 'WhatsApp', enabled: false });

    dataOf(await admin.client.post('/catalog/services/wa', { enabled: true, name: 'WhatsApp Messenger' }));
    const back = dataOf(await server.api(apiKey).get('/api/v1/services')).services;
    assert.ok(back.some((s: { code: string; name: string }) => s.code === 'wa' && s.name === 'WhatsApp Messenger'));
    assertError(await admin.client.post('/catalog/services/nope', { enabled: true }), 404, 'not_found');
  });

  it('creates a country with its name and prefix from the ISO code, renames and disables it', async () => {
    const created = dataOf(await admin.client.post('/catalog/countries', { id: 78, iso: 'fr' }));
    assert.deepEqual(created.country, { id: 78, name: 'France', iso: 'FR', prefix: '+33', enabled: true });
    assert.deepEqual((await lastAudit('country.create', '78')).after, { id: 78, name: 'France', iso: 'FR', prefix: '33', enabled: true });
    const countries = dataOf(await server.api(apiKey).get('/api/v1/countries')).countries;
    assert.ok(countries.some((c: { id: number }) => c.id === 78));

    assertError(await admin.client.post('/catalog/countries', { id: 79, iso: 'XX' }), 400, 'invalid_request', /ISO 3166/);
    assertError(await admin.client.post('/catalog/countries', { id: 78, iso: 'DE' }), 409, 'conflict');
    assertError(await admin.client.post('/catalog/countries', { id: 80, iso: 'FR' }), 409, 'conflict', /already belongs to country 78/);

    const renamed = dataOf(await admin.client.post('/catalog/countries/78', { name: 'France (metropolitan)', enabled: false }));
    assert.deepEqual(renamed.country, { id: 78, name: 'France (metropolitan)', iso: 'FR', prefix: '+33', enabled: false });
    const after = dataOf(await server.api(apiKey).get('/api/v1/countries')).countries;
    assert.ok(!after.some((c: { id: number }) => c.id === 78), 'a disabled country is not listed');
    assert.equal((await lastAudit('country.update', '78')).after.enabled, false);
  });

  it('adds and renames operators per country', async () => {
    const created = dataOf(await admin.client.post('/catalog/operators', { country: 6, code: 'tmobile', name: 'T-Mobile' }));
    assert.deepEqual(created.operator, { country: 6, code: 'tmobile', name: 'T-Mobile', enabled: true });
    assert.ok(await lastAudit('operator.create', '6:tmobile'));
    assertError(await admin.client.post('/catalog/operators', { country: 6, code: 'tmobile', name: 'Again' }), 409, 'conflict');
    assertError(await admin.client.post('/catalog/operators', { country: 999, code: 'x', name: 'X' }), 404, 'not_found');
    const updated = dataOf(await admin.client.post('/catalog/operators/6/tmobile', { name: 'T-Mobile US', enabled: false }));
    assert.deepEqual(updated.operator, { country: 6, code: 'tmobile', name: 'T-Mobile US', enabled: false });
    const entry = await lastAudit('operator.update', '6:tmobile');
    assert.equal(entry.before.name, 'T-Mobile');
    assert.equal(entry.after.name, 'T-Mobile US');
    const catalog = dataOf(await admin.client.get('/catalog'));
    assert.ok(catalog.operators.some((o: { code: string; enabled: boolean }) => o.code === 'tmobile' && !o.enabled));
    // A disabled operator is not sold.
    await server.createProvider({ countryId: 6, count: 1, operator: 'tmobile' });
    const refused = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator: 'tmobile' });
    assertError(refused, 409, 'out_of_stock', /not on sale/);
  });

  it('sets a price that is live at once in GET /api/v1/prices and the public price table, audited before → after', async () => {
    assert.deepEqual(await publicPrice('tg', 16), { api: 0.6, web: 0.6 });
    const { row } = dataOf(await admin.client.post('/pricing/price', { service: 'tg', country: 16, price: '0.65' }));
    assert.equal(row.price, 0.65);
    assert.equal(row.rule.mode, 'manual');
    assert.deepEqual(await publicPrice('tg', 16), { api: 0.65, web: 0.65 });
    const entry = await lastAudit('price.set', 'tg:16');
    assert.deepEqual([entry.before, entry.after], [{ price: 0.6, rule: 'manual' }, { price: 0.65, rule: 'manual' }]);

    assertError(await admin.client.post('/pricing/price', { service: 'tg', country: 16, price: 0 }), 400, 'invalid_request');
    assertError(await admin.client.post('/pricing/price', { service: 'tg', country: 16, price: '0.123456' }), 400, 'invalid_request');
    assertError(await admin.client.post('/pricing/price', { service: 'zz', country: 16, price: 1 }), 404, 'not_found');
  });

  it("charges a buyer who asks for an operator that operator's price, and the pair's price once it is removed", async () => {
    await server.createProvider({ countryId: 6, count: 3, operator: 'verizon' });
    const { row } = dataOf(await admin.client.post('/pricing/price', { service: 'tg', country: 6, price: 0.8, operator: 'verizon' }));
    assert.deepEqual(row.operator_prices, [{ operator: 'verizon', price: 0.8, margin: null, margin_percent: null, below_cost: false }]);
    assert.deepEqual((await lastAudit('price.set', 'tg:6:verizon')).after, { price: 0.8 });

    const { apiKey: buyerKey } = await server.createCompany('5');
    const buyer = server.api(buyerKey);
    const first = await buyer.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator: 'verizon' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.data.activation.price, 0.8);
    // The public price of the pair is unchanged.
    assert.equal((await publicPrice('tg', 6)).api, 0.5);

    const removed = dataOf(await admin.client.post('/pricing/operator-price/remove', { service: 'tg', country: 6, operator: 'verizon' }));
    assert.deepEqual(removed.row.operator_prices, []);
    assert.deepEqual((await lastAudit('price.remove', 'tg:6:verizon')).before, { price: 0.8 });
    const second = await buyer.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator: 'verizon' });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.body.data.activation.price, 0.5);
    assertError(await admin.client.post('/pricing/operator-price/remove', { service: 'tg', country: 6, operator: 'verizon' }), 404, 'not_found');
  });

  it('imports a catalog file in one transaction: a report, idempotent, and nothing applied when a row is invalid', async () => {
    const csv = ['kind,a,b,c', 'service,ds,Discord', 'country,44,DE', 'price,ds,44,0.30', 'price,ds,6,0.25'].join('\n');
    const dry = dataOf(await admin.client.post('/catalog/import', { content: csv, dry_run: true }));
    assert.equal(dry.applied, false);
    assert.equal(dry.created, 4);
    assert.equal((await server.services.catalog.admin.list()).services.some((s) => s.code === 'ds'), false, 'a dry run applies nothing');

    const report = dataOf(await admin.client.post('/catalog/import', { content: csv }));
    assert.deepEqual([report.applied, report.created, report.updated, report.unchanged], [true, 4, 0, 0]);
    assert.deepEqual(report.changes[0], { where: 'line 2', kind: 'service', key: 'ds', result: 'created' });
    assert.deepEqual(await publicPrice('ds', 44), { api: 0.3, web: 0.3 });
    const entry = await lastAudit('price.set', 'ds:44');
    assert.equal(entry.reason, 'catalog import');
    assert.equal(entry.actor, `staff:${admin.email}`);

    const again = dataOf(await admin.client.post('/catalog/import', { content: csv }));
    assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, 4]);

    const json = JSON.stringify({ prices: [{ service: 'ds', country: 44, price: 0.35 }] });
    const updated = dataOf(await admin.client.post('/catalog/import', { content: json }));
    assert.deepEqual(updated.changes, [{ where: 'prices[0]', kind: 'price', key: 'ds:44', result: 'updated' }]);

    const bad = ['price,ds,44,0.99', 'price,nope,6,1', 'country,45,QQ'].join('\n');
    const refused = await admin.client.post('/catalog/import', { content: bad });
    assertError(refused, 400, 'invalid_request');
    assert.match(refused.body.error.message, /^Nothing was imported/);
    assert.match(refused.body.error.message, /line 2: No service "nope"/);
    assert.match(refused.body.error.message, /line 3: "QQ" is not an ISO 3166/);
    assert.equal((await publicPrice('ds', 44)).api, 0.35, 'the valid row of a refused file is not applied');
    assertError(await admin.client.post('/catalog/import', { content: '{"services": [{"code": 5}]}' }), 400, 'invalid_request', /services\[0\]\.code/);
  });

  it("imports the README's example catalog file as it is (a dry run)", async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = /### Catalog file[\s\S]*?```csv\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'the README shows a CSV example under "Catalog file"');
    const report = dataOf(await admin.client.post('/catalog/import', { content: example, dry_run: true }));
    assert.deepEqual(
      report.changes.map((c: { kind: string; key: string }) => `${c.kind} ${c.key}`),
      ['service tg', 'country 6', 'operator 6:tmobile', 'price tg:6', 'price tg:6:tmobile', 'markup wa:6'],
    );
  });

  it('is for admins only: support staff and anonymous visitors get 403 on every catalog route', async () => {
    const support = await signInStaff(server, 'support');
    const anonymous = consoleClient(server.url);
    await anonymous.start();
    const reads = ['/catalog', '/pricing'];
    const writes: [string, unknown][] = [
      ['/catalog/services', { code: 'sp', name: 'Support' }],
      ['/catalog/services/tg', { enabled: false }],
      ['/catalog/countries', { id: 81, iso: 'IT' }],
      ['/catalog/countries/6', { name: 'USA' }],
      ['/catalog/operators', { country: 6, code: 'att', name: 'AT&T' }],
      ['/catalog/operators/6/tmobile', { enabled: true }],
      ['/catalog/import', { content: 'service,sp,Support' }],
      ['/pricing/price', { service: 'tg', country: 6, price: 0.01 }],
      ['/pricing/operator-price/remove', { service: 'tg', country: 6, operator: 'x' }],
      ['/pricing/rule', { service: 'tg', country: 6, mode: 'manual' }],
    ];
    for (const client of [support.client, anonymous]) {
      for (const path of reads) assertError(await client.get(path), 403, 'forbidden');
      for (const [path, body] of writes) assertError(await client.post(path, body), 403, 'forbidden');
    }
    assert.equal((await publicPrice('tg', 6)).api, 0.5, 'nothing changed');
    assert.equal((await server.services.audit.list({ action: 'service.create', targetId: 'sp', limit: 1 })).length, 0);
  });
});

describe('markup pricing follows the supply cost', { timeout: 120_000 }, () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let upstream: FakeUpstream;
  const offers = { '16': { wa: { cost: 0.4, count: 5 } } };

  before(async () => {
    server = await startTestServer();
    admin = await signInStaff(server, 'admin');
    upstream = await startFakeUpstream({ apiKey: uniqueName('up'), prices: offers, pool: ['447700800001', '447700800002'] });
    await server.services.supply.createProvider({
      name: uniqueName('upstream'),
      kind: 'sms-activate',
      upstream: { apiUrl: upstream.url, apiKey: upstream.apiKey, countries: { '16': '16' }, markupPercent: 0 },
    });
    await server.jobs.remoteSupply.runOnce();
  });
  after(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('computes max(cost × (1 + markup), cost + min margin), rounded up to a cent', () => {
    const cases: [number, number, number, number][] = [
      // cost, markup basis points, min margin, price (all in 1/10000 USD)
      [4000, 2500, 500, 5000],
      [4000, 1000, 500, 4500],
      [3333, 2000, 0, 4000],
      [0, 0, 0, 100],
      [12345, 0, 1, 12400],
    ];
    for (const [cost, markupBasisPoints, minMargin, price] of cases) {
      assert.equal(markupPrice(cost, { markupBasisPoints, minMargin }), price, `cost ${cost} markup ${markupBasisPoints} min ${minMargin}`);
    }
  });

  it('shows the supply cost in the grid, prices from a markup rule, follows a cost change after the poll, and flags a manual price below cost', async () => {
    const grid = dataOf(await admin.client.get('/pricing?service=wa&country=16'));
    assert.equal(grid.rows.length, 1);
    assert.deepEqual([grid.rows[0].cost, grid.rows[0].price, grid.rows[0].stock], [0.4, null, 5]);

    const ruled = dataOf(await admin.client.post('/pricing/rule', { service: 'wa', country: 16, mode: 'markup', markup_percent: 25, min_margin: 0.05 }));
    assert.deepEqual(
      [ruled.row.price, ruled.row.margin, ruled.row.margin_percent, ruled.row.below_cost, ruled.row.rule],
      [0.5, 0.1, 20, false, { mode: 'markup', markup_percent: 25, min_margin: 0.05 }],
    );
    const ruleEntry = await newestAudit(server, 'pricing_rule.set', 'wa:16');
    assert.equal(ruleEntry.before.mode, 'manual');
    assert.deepEqual([ruleEntry.after.mode, ruleEntry.after.price, ruleEntry.after.cost], ['markup', 0.5, 0.4]);
    const { apiKey } = await server.createCompany('1');
    const price = () => server.api(apiKey).get('/api/v1/prices?service=wa&country=16').then((r) => dataOf(r).price);
    assert.equal(await price(), 0.5);

    // The upstream raises its cost: the next poll reprices, written by the system actor.
    offers['16'].wa.cost = 0.6;
    await server.jobs.remoteSupply.runOnce();
    assert.equal(await price(), 0.75);
    const auto = await newestAudit(server, 'price.auto', 'wa:16');
    assert.equal(auto.actor, 'system');
    assert.deepEqual([auto.before, auto.after.price, auto.after.cost], [{ price: 0.5 }, 0.75, 0.6]);

    // A typed price overrides the markup (the rule becomes manual) and is flagged when below cost.
    const manual = dataOf(await admin.client.post('/pricing/price', { service: 'wa', country: 16, price: 0.55 }));
    assert.deepEqual([manual.row.price, manual.row.rule.mode, manual.row.below_cost, manual.row.margin], [0.55, 'manual', true, -0.05]);
    offers['16'].wa.cost = 0.3;
    await server.jobs.remoteSupply.runOnce();
    assert.equal(await price(), 0.55, 'a manual price ignores the cost');

    // Back to markup (the figures kept): priced from the new cost at once.
    const back = dataOf(await admin.client.post('/pricing/rule', { service: 'wa', country: 16, mode: 'markup', markup_percent: 25, min_margin: 0.05 }));
    assert.equal(back.row.price, 0.38);
    assertError(await admin.client.post('/pricing/rule', { service: 'wa', country: 16, mode: 'markup', markup_percent: -1 }), 400, 'invalid_request');
    assertError(await admin.client.post('/pricing/rule', { service: 'wa', country: 16, mode: 'markup' }), 400, 'invalid_request');
  });
});
