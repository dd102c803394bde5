import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runOperatorCommand } from '../../src/cli/control-socket.ts';
import { consoleClient, type SignedInStaff, signInStaff } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';
import { signUp } from '../web/web-client.ts';

let numberCounter = 0;
/** A US number no other test in this file (nor the test server's helper, which uses area codes 200-899) hands out. */
const freshNumber = () => `+1917555${String(1000 + ++numberCounter)}`;

describe('console: supply', () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let support: SignedInStaff;

  before(async () => {
    server = await startTestServer();
    admin = await signInStaff(server, 'admin');
    support = await signInStaff(server, 'support');
  });
  after(async () => {
    await server.close();
  });

  const auditOf = async (action: string, targetId: string | number) =>
    (await server.services.audit.list({ action, targetId: String(targetId), limit: 10 })).filter((e) => e.staffId === admin.staffId);

  async function stock(apiKey: string, service: string, country: number): Promise<number> {
    const answer = await server.api(apiKey).get(`/api/v1/prices?service=${service}&country=${country}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.data.available;
  }

  async function createHttpProvider(costPerNumber?: number) {
    const created = await admin.client.post('/supply/providers', { name: uniqueName('modems'), kind: 'http', ...(costPerNumber === undefined ? {} : { cost_per_number: costPerNumber }) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.data as { provider: { id: number; name: string }; credentials: { secret: string } };
  }

  async function numberIdOf(e164: string): Promise<number> {
    const found = await admin.client.get(`/supply/numbers?q=${encodeURIComponent(e164.slice(1))}`);
    assert.equal(found.status, 200);
    const row = found.body.data.numbers.find((n: { e164: string }) => n.e164 === e164);
    assert.ok(row, `number ${e164} not listed`);
    return row.id;
  }

  describe('providers', () => {
    it('creates an http provider whose secret, shown once, pushes SMS; it is listed with its health and cost, and audited without the secret', async () => {
      const { provider, credentials } = await createHttpProvider(0.05);
      assert.match(credentials.secret, /^nps_/);
      const pushed = await server.api(credentials.secret).post('/api/v1/supply/sms', { to: freshNumber(), from: 'Bank', text: 'hello' });
      assert.equal(pushed.status, 200);

      const listed = await admin.client.get('/supply/providers');
      assert.equal(listed.status, 200);
      const row = listed.body.data.providers.find((p: { id: number }) => p.id === provider.id);
      assert.equal(row.kind, 'http');
      assert.equal(row.enabled, true);
      assert.equal(row.cost_per_number, 0.05);
      assert.equal(row.sms_received, 1);
      assert.equal(row.delivery_rate, null);
      assert.ok(row.last_seen_at);
      assert.ok(!JSON.stringify(listed.body).includes(credentials.secret), 'a secret is never readable again');

      const [entry] = await auditOf('provider.create', provider.id);
      assert.ok(entry, 'provider.create audited');
      assert.equal((entry.after as { kind: string }).kind, 'http');
      assert.equal((entry.after as { cost_per_number: number }).cost_per_number, 500);
      assert.ok(!JSON.stringify(entry).includes(credentials.secret), 'the audit log never holds a secret');
    });

    it('creates android-gateway, smshub and sms-activate providers with the credentials each needs', async () => {
      const gateway = await admin.client.post('/supply/providers', { name: uniqueName('phone'), kind: 'android-gateway' });
      assert.equal(gateway.status, 201);
      assert.equal(gateway.body.data.credentials.webhook_path, `/api/v1/supply/android-gateway/${gateway.body.data.provider.id}`);
      assert.ok(gateway.body.data.credentials.signing_key.length >= 16);
      assert.equal(gateway.body.data.provider.cost_per_number, 0);

      const agent = await admin.client.post('/supply/providers', {
        name: uniqueName('simbank'),
        kind: 'smshub',
        url: 'http://127.0.0.1:9/agent',
        countries: { '6': 'usa' },
        payout_percent: 70,
      });
      assert.equal(agent.status, 201, JSON.stringify(agent.body));
      assert.deepEqual(Object.keys(agent.body.data.credentials).sort(), ['key', 'push_path']);
      assert.equal(agent.body.data.provider.cost_per_number, null);
      // The key authenticates the agent's pushes.
      const pushed = await server.api().post('/api/v1/supply/smshub', { action: 'PUSH_SMS', key: agent.body.data.credentials.key, smsId: 1, phone: 19175550001, phoneFrom: 'x', text: 'y' });
      assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
      assert.equal(pushed.body.status, 'SUCCESS');
      const wrongKey = await server.api().post('/api/v1/supply/smshub', { action: 'PUSH_SMS', key: 'not-the-key', smsId: 2, phone: 19175550001, phoneFrom: 'x', text: 'y' });
      assert.equal(wrongKey.status, 401);

      const upstream = await admin.client.post('/supply/providers', {
        name: uniqueName('upstream'),
        kind: 'sms-activate',
        url: 'http://127.0.0.1:9/stubs/handler_api.php',
        countries: { '6': '187' },
        api_key: 'their-key',
        markup_percent: 25,
      });
      assert.equal(upstream.status, 201, JSON.stringify(upstream.body));
      assert.deepEqual(upstream.body.data.credentials, {});
      const [entry] = await auditOf('provider.create', upstream.body.data.provider.id);
      assert.ok(!JSON.stringify(entry).includes('their-key'), 'the upstream API key stays out of the audit log');
    });

    it('refuses bad provider input with a 400 or a 409 naming the problem, creating nothing', async () => {
      const cases: [unknown, number, RegExp][] = [
        [{ name: 'x', kind: 'sms-activate', url: 'http://a.example/h', countries: { '6': '187' } }, 400, /api_key/],
        [{ name: 'x', kind: 'smshub', countries: { '6': 'usa' } }, 400, /url/],
        [{ name: 'x', kind: 'smshub', url: 'ftp://a', countries: { '6': 'usa' } }, 400, /url/],
        [{ name: 'x', kind: 'smshub', url: 'http://a.example', countries: { usa: '6' } }, 400, /countries/],
        [{ name: 'x', kind: 'smshub', url: 'http://a.example', countries: { '6': 'usa' }, cost_per_number: 0.1 }, 400, /cost_per_number/],
        [{ name: 'x', kind: 'http', cost_per_number: 0.00001 }, 400, /cost_per_number/],
        [{ name: 'x', kind: 'pigeon' }, 400, /kind/],
        [{ name: 'x', kind: 'http', extra: 1 }, 400, /extra|additional/i],
      ];
      const before = (await admin.client.get('/supply/providers')).body.data.providers.length;
      for (const [body, status, message] of cases) {
        const answer = await admin.client.post('/supply/providers', body);
        assert.equal(answer.status, status, `${JSON.stringify(body)} → ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'invalid_request');
        assert.match(answer.body.error.message, message);
      }
      const { provider } = await createHttpProvider();
      const taken = await admin.client.post('/supply/providers', { name: provider.name, kind: 'http' });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.error.code, 'conflict');
      assert.equal((await admin.client.get('/supply/providers')).body.data.providers.length, before + 1);
    });

    it('disabling a provider takes its numbers off sale at once and enabling puts them back; both audited', async () => {
      const customer = await server.createCompany('5');
      const { provider } = await createHttpProvider();
      const imported = await admin.client.post(`/supply/providers/${provider.id}/numbers/import`, { csv: `${freshNumber()},16\n${freshNumber()},16` });
      assert.deepEqual(imported.body.data, { added: 2, skipped: 0 });
      const onSale = await stock(customer.apiKey, 'tg', 16);

      const disabled = await admin.client.post(`/supply/providers/${provider.id}/disable`, { reason: 'SIM bank rebooting' });
      assert.equal(disabled.status, 200);
      assert.equal(disabled.body.data.provider.enabled, false);
      assert.match(disabled.body.data.provider.disabled_reason, /SIM bank rebooting/);
      assert.equal(await stock(customer.apiKey, 'tg', 16), onSale - 2);
      assert.equal((await admin.client.post(`/supply/providers/${provider.id}/disable`, {})).status, 409);

      const enabled = await admin.client.post(`/supply/providers/${provider.id}/enable`);
      assert.equal(enabled.status, 200);
      assert.equal(enabled.body.data.provider.enabled, true);
      assert.equal(enabled.body.data.provider.disabled_reason, null);
      assert.equal(await stock(customer.apiKey, 'tg', 16), onSale);
      assert.equal((await admin.client.post(`/supply/providers/${provider.id}/enable`)).status, 409);

      const [disableEntry] = await auditOf('provider.disable', provider.id);
      assert.deepEqual(disableEntry.before, { enabled: true });
      assert.deepEqual(disableEntry.after, { enabled: false });
      assert.equal(disableEntry.reason, 'SIM bank rebooting');
      assert.equal((await auditOf('provider.enable', provider.id)).length, 1);
      assert.equal((await admin.client.post('/supply/providers/999999/enable')).status, 404);
    });

    it('changes a local provider’s cost per number (audited) and refuses one for a remote source', async () => {
      const { provider } = await createHttpProvider();
      const changed = await admin.client.post(`/supply/providers/${provider.id}/settings`, { cost_per_number: 0.12 });
      assert.equal(changed.status, 200);
      assert.equal(changed.body.data.provider.cost_per_number, 0.12);
      const [entry] = await auditOf('provider.settings', provider.id);
      assert.deepEqual(entry.before, { cost_per_number: 0 });
      assert.deepEqual(entry.after, { cost_per_number: 0.12 });

      const agent = await admin.client.post('/supply/providers', { name: uniqueName('simbank'), kind: 'smshub', url: 'http://127.0.0.1:9/', countries: { '6': 'usa' } });
      const refused = await admin.client.post(`/supply/providers/${agent.body.data.provider.id}/settings`, { cost_per_number: 0.1 });
      assert.equal(refused.status, 400);
      assert.equal((await admin.client.post(`/supply/providers/${provider.id}/settings`, { cost_per_number: -1 })).status, 400);

      // The operator CLI sets it at creation too.
      const cli = await runOperatorCommand(server.services, 'provider:create', ['--name', uniqueName('cli'), '--cost', '0.03']);
      assert.ok(cli.ok, JSON.stringify(cli.error));
      const cliId = (cli.output!.json as { provider_id: number }).provider_id;
      const listed = await admin.client.get('/supply/providers');
      assert.equal(listed.body.data.providers.find((p: { id: number }) => p.id === cliId).cost_per_number, 0.03);
      const bad = await runOperatorCommand(server.services, 'provider:create', ['--name', uniqueName('cli'), '--cost', 'cheap']);
      assert.equal(bad.ok, false);
    });
  });

  describe('numbers', () => {
    it('a CSV import raises the stock in GET /api/v1/prices; numbers already known are skipped; audited', async () => {
      const customer = await server.createCompany('1');
      const { provider } = await createHttpProvider();
      const existing = await server.createProvider({ countryId: 6, count: 1 });
      const before = await stock(customer.apiKey, 'wa', 6);
      const fresh = [freshNumber(), freshNumber(), freshNumber()];
      const csv = ['e164,country_id,operator', `${fresh[0]},6`, `${fresh[1]},6,tmobile`, '', `${fresh[2]},6,any,phone-1,2`, `${existing.numbers[0]},6`, `${fresh[0]},6`].join('\n');
      const imported = await admin.client.post(`/supply/providers/${provider.id}/numbers/import`, { csv });
      assert.equal(imported.status, 200, JSON.stringify(imported.body));
      assert.deepEqual(imported.body.data, { added: 3, skipped: 2 });
      assert.equal(await stock(customer.apiKey, 'wa', 6), before + 3);

      const listed = await admin.client.get(`/supply/numbers?provider_id=${provider.id}`);
      assert.equal(listed.body.data.total, 3);
      const onDevice = listed.body.data.numbers.find((n: { e164: string }) => n.e164 === fresh[2]);
      assert.equal(onDevice.device_id, 'phone-1');
      assert.equal(onDevice.sim_slot, 2);
      assert.equal(listed.body.data.numbers.find((n: { e164: string }) => n.e164 === fresh[1]).operator, 'tmobile');

      const [entry] = await auditOf('numbers.import', provider.id);
      assert.deepEqual(entry.after, { rows: 5, added: 3, skipped: 2 });
    });

    it('an import with bad rows names each bad line and adds nothing', async () => {
      const customer = await server.createCompany('1');
      const { provider } = await createHttpProvider();
      const before = await stock(customer.apiKey, 'wa', 6);
      const good = freshNumber();
      const csv = [`${good},6`, '+1555,6', `${freshNumber()},999`, `${freshNumber()}`, `${freshNumber()},6,any,,3`].join('\n');
      const refused = await admin.client.post(`/supply/providers/${provider.id}/numbers/import`, { csv });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'invalid_request');
      const message: string = refused.body.error.message;
      assert.match(message, /Line 2: "\+1555" is not a phone number/);
      assert.match(message, /Line 3: country 999 does not exist/);
      assert.match(message, /Line 4: expected 2 to 5 columns/);
      assert.match(message, /Line 5: a sim slot needs its device/);
      assert.doesNotMatch(message, /Line 1:/);
      assert.equal(await stock(customer.apiKey, 'wa', 6), before);
      assert.equal((await admin.client.get(`/supply/numbers?provider_id=${provider.id}`)).body.data.total, 0);
      assert.equal((await auditOf('numbers.import', provider.id)).length, 0);

      // A SIM slot holds one number, in the file or already in stock.
      await admin.client.post(`/supply/providers/${provider.id}/numbers/import`, { csv: `${freshNumber()},6,any,phone-9,1` });
      const slotTaken = await admin.client.post(`/supply/providers/${provider.id}/numbers/import`, { csv: `${freshNumber()},6,any,phone-9,1` });
      assert.equal(slotTaken.status, 400);
      assert.match(slotTaken.body.error.message, /Line 1: device phone-9 sim 1 already holds/);

      for (const csv of ['', 'e164,country_id\n', '"unclosed,6']) {
        const answer = await admin.client.post(`/supply/providers/${provider.id}/numbers/import`, { csv });
        assert.equal(answer.status, 400, `${JSON.stringify(csv)} → ${answer.status}`);
      }
      assert.equal((await admin.client.post('/supply/providers/999999/numbers/import', { csv: `${freshNumber()},6` })).status, 404);
    });

    it('a retired number is never sold again, while its history keeps the rental, company, cost and SMS', async () => {
      const customer = await server.createCompany('5');
      const { provider, credentials } = await createHttpProvider(0.07);
      const number = freshNumber();
      const operator = uniqueName('op');
      await admin.client.post(`/supply/providers/${provider.id}/numbers/import`, { csv: `${number},6,${operator}` });
      const api = server.api(customer.apiKey);
      const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator });
      assert.equal(bought.status, 201, JSON.stringify(bought.body));
      const activationId = bought.body.data.id ?? bought.body.data.activation?.id;
      await server.api(credentials.secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Telegram code: 55555' });
      assert.equal((await api.post(`/api/v1/activations/${activationId}/complete`)).status, 200);

      const numberId = await numberIdOf(number);
      const waStock = await stock(customer.apiKey, 'wa', 6);
      const retired = await admin.client.post(`/supply/numbers/${numberId}/retire`, { reason: 'SIM returned to the carrier' });
      assert.equal(retired.status, 200);
      assert.ok(retired.body.data.number.retired_at);
      assert.equal(await stock(customer.apiKey, 'wa', 6), waStock - 1);
      // Never sold for WhatsApp yet, free and enabled: only retirement keeps it off sale.
      const refused = await api.post('/api/v1/activations', { service_code: 'wa', country_id: 6, operator });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'out_of_stock');
      assert.equal((await admin.client.post(`/supply/numbers/${numberId}/retire`, {})).status, 409);

      const history = await admin.client.get(`/supply/numbers/${numberId}`);
      assert.equal(history.status, 200);
      assert.equal(history.body.data.number.e164, number);
      const [rental] = history.body.data.rentals;
      assert.equal(rental.activation_id, activationId);
      assert.equal(rental.company.id, customer.companyId);
      assert.equal(rental.service, 'tg');
      assert.equal(rental.outcome, 'completed');
      assert.equal(rental.supply_cost, 0.07);
      assert.equal(rental.price, 0.5);
      assert.equal(rental.sms[0].code, '55555');
      assert.ok(rental.first_code_at);

      const [entry] = await auditOf('number.retire', numberId);
      assert.equal(entry.reason, 'SIM returned to the carrier');
      assert.equal((entry.after as { e164: string }).e164, number);
      assert.equal((await admin.client.get(`/supply/numbers?state=retired&provider_id=${provider.id}`)).body.data.total, 1);
      assert.equal((await admin.client.get('/supply/numbers/999999')).status, 404);
    });
  });

  describe('incoming SMS', () => {
    it('the live list delivers a new SMS, unmatched ones included; attaching one gives the customer its code, audited', async () => {
      const customer = await server.createCompany('5');
      const { provider, credentials } = await createHttpProvider();
      const number = freshNumber();
      const operator = uniqueName('op');
      await admin.client.post(`/supply/providers/${provider.id}/numbers/import`, { csv: `${number},6,${operator}` });
      const api = server.api(customer.apiKey);
      const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator });
      const activationId = bought.body.data.id ?? bought.body.data.activation?.id;

      const stream = await admin.client.events('/supply/sms/live');
      try {
        assert.equal(stream.status, 200);
        await stream.next((e) => e.event === 'ready');
        // The modem reports the SMS against a number we do not know: kept, unmatched.
        const stray = freshNumber();
        const pushed = await server.api(credentials.secret).post('/api/v1/supply/sms', { to: stray, from: 'Telegram', text: 'Telegram code: 24680' });
        assert.equal(pushed.body.data.activation_id, null);
        const live = await stream.next((e) => e.event === 'sms' && e.data.to === stray, 2000);
        assert.equal(live.data.activation_id, null);
        assert.equal(live.data.code, '24680');
        assert.equal(live.data.provider.id, provider.id);
        const smsId = live.data.id;

        const unmatched = await admin.client.get(`/supply/sms?unmatched=true&provider_id=${provider.id}`);
        assert.deepEqual(unmatched.body.data.sms.map((s: { id: number }) => s.id), [smsId]);

        const attached = await admin.client.post(`/supply/sms/${smsId}/attach`, { activation_id: activationId });
        assert.equal(attached.status, 200, JSON.stringify(attached.body));
        assert.deepEqual(attached.body.data.activation, { id: activationId, status: 'sms_received', code: '24680' });
        assert.equal(attached.body.data.sms.activation_id, activationId);
        const seen = await api.get(`/api/v1/activations/${activationId}`);
        assert.equal(seen.body.data.activation.status, 'sms_received');
        assert.equal(seen.body.data.activation.code, '24680');
        assert.equal(seen.body.data.activation.messages[0].text, 'Telegram code: 24680');
        const update = await stream.next((e) => e.event === 'sms' && e.data.id === smsId && e.data.activation_id === activationId, 2000);
        assert.equal(update.data.code, '24680');
        assert.equal((await admin.client.get(`/supply/sms?unmatched=true&provider_id=${provider.id}`)).body.data.sms.length, 0);

        const [entry] = await auditOf('sms.attach', smsId);
        assert.deepEqual(entry.after, { activation_id: activationId, code: '24680' });

        // Once only, to an open activation only.
        const again = await admin.client.post(`/supply/sms/${smsId}/attach`, { activation_id: activationId });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'invalid_state');
        const other = await server.api(credentials.secret).post('/api/v1/supply/sms', { to: freshNumber(), from: 'x', text: 'code 1111' });
        assert.equal((await admin.client.post(`/supply/sms/${other.body.data.sms_id}/attach`, { activation_id: 999999 })).status, 404);
        assert.equal((await api.post(`/api/v1/activations/${activationId}/complete`)).status, 200);
        const finished = await admin.client.post(`/supply/sms/${other.body.data.sms_id}/attach`, { activation_id: activationId });
        assert.equal(finished.status, 409);
        assert.match(finished.body.error.message, /completed/);
        assert.equal((await admin.client.post('/supply/sms/999999/attach', { activation_id: activationId })).status, 404);
      } finally {
        stream.close();
      }
    });

    it('the list pages newest first', async () => {
      const { credentials } = await createHttpProvider();
      for (let i = 0; i < 3; i++) await server.api(credentials.secret).post('/api/v1/supply/sms', { to: freshNumber(), from: 'x', text: `message ${i}` });
      const first = await admin.client.get('/supply/sms?limit=2');
      assert.equal(first.body.data.sms.length, 2);
      assert.ok(first.body.data.sms[0].id > first.body.data.sms[1].id);
      const next = await admin.client.get(`/supply/sms?limit=2&before_id=${first.body.data.next_before_id}`);
      assert.ok(next.body.data.sms[0].id < first.body.data.sms[1].id);
    });
  });

  describe('authorization', () => {
    it('support staff get 403 on supply, reads and changes alike; customers and anonymous visitors too', async () => {
      const { provider } = await createHttpProvider();
      const { client: customer } = await signUp(server);
      const anonymous = consoleClient(server.url);
      await anonymous.start();
      const reads = ['/supply/providers', '/supply/numbers', '/supply/sms', `/supply/numbers/1`];
      const changes: [string, unknown][] = [
        ['/supply/providers', { name: uniqueName('x'), kind: 'http' }],
        [`/supply/providers/${provider.id}/disable`, {}],
        [`/supply/providers/${provider.id}/settings`, { cost_per_number: 1 }],
        [`/supply/providers/${provider.id}/numbers/import`, { csv: `${freshNumber()},6` }],
        ['/supply/numbers/1/retire', {}],
        ['/supply/sms/1/attach', { activation_id: 1 }],
      ];
      for (const client of [support.client, anonymous]) {
        for (const path of reads) assert.equal((await client.get(path)).status, 403, `GET ${path}`);
        for (const [path, body] of changes) {
          const answer = await client.post(path, body);
          assert.equal(answer.status, 403, `POST ${path}`);
          assert.equal(answer.body.error.code, 'forbidden');
        }
        const stream = await client.events('/supply/sms/live');
        stream.close();
        assert.equal(stream.status, 403);
      }
      // A customer's website session is not a staff session.
      const asCustomer = await fetch(`${server.url}/api/console/supply/providers`, { headers: { cookie: [...customer.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
      assert.equal(asCustomer.status, 403);
      const listed = await admin.client.get('/supply/providers');
      assert.equal(listed.body.data.providers.find((p: { id: number }) => p.id === provider.id).enabled, true, 'nothing changed');
    });
  });
});
