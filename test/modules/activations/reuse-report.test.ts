import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { ledgerVerify } from '../../../src/cli/commands/ledger-verify.ts';
import { type SignedInStaff, signInStaff } from '../../support/console-client.ts';
import { type ApiClient, startTestServer, type TestServer } from '../../support/test-server.ts';

// Numbers that fail (no SMS) are not disabled here: several tests sell one number many times.
const env = {
  NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1',
  NOVA_WEBHOOK_INTERVAL_MS: '600000',
  NOVA_NUMBER_MAX_FAILURES: '1000',
  NOVA_PROVIDER_MAX_FAILURES: '1000',
};

type Provider = Awaited<ReturnType<TestServer['createProvider']>>;

interface Activation {
  id: number;
  number: string;
  service: string;
  country: number;
  price: number;
  status: string;
  code: string | null;
  reused_from: number | null;
}

let countryCounter = 0;
// Each SMS its own code: the same text to the same number within minutes is one SMS (duplicate detection).
let codeCounter = 24_680;

/** Helpers bound to one test server. */
function helpersFor(getServer: () => TestServer) {
  /**
   * A country of its own with one number (tg 0.50, wa 0.75): whoever buys in it gets that very
   * number, so a test decides who holds it.
   */
  async function oneNumberCountry(): Promise<{ countryId: number; number: string; provider: Provider }> {
    const server = getServer();
    const countryId = 900 + ++countryCounter;
    await server.services.catalog.upsertCountry({ id: countryId, name: `Testland ${countryId}`, iso: `T${countryId}`, dialPrefix: '999' });
    await server.services.catalog.setPrice({ serviceCode: 'tg', countryId, price: 5000 });
    await server.services.catalog.setPrice({ serviceCode: 'wa', countryId, price: 7500 });
    const provider = await server.createProvider({ countryId, count: 1 });
    return { countryId, number: provider.numbers[0], provider };
  }

  const sms = (provider: Provider, to: string, text: string) => getServer().api(provider.secret).post('/api/v1/supply/sms', { to, from: 'Telegram', text });

  async function buy(api: ApiClient, countryId: number, service = 'tg'): Promise<Activation> {
    const bought = await api.post('/api/v1/activations', { service_code: service, country_id: countryId });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    return bought.body.data.activation;
  }

  /** Bought, its code received and completed: what a customer re-verifies later. */
  async function buyCompleted(api: ApiClient, countryId: number, provider: Provider, service = 'tg'): Promise<Activation> {
    const activation = await buy(api, countryId, service);
    await complete(api, activation, provider);
    return activation;
  }

  async function complete(api: ApiClient, activation: Activation, provider: Provider) {
    const pushed = await sms(provider, activation.number, `Telegram code: ${++codeCounter}`);
    assert.equal(pushed.body.data.activation_id, activation.id);
    const completed = await api.post(`/api/v1/activations/${activation.id}/complete`);
    assert.equal(completed.status, 200, JSON.stringify(completed.body));
  }

  const balanceOf = async (api: ApiClient): Promise<number> => (await api.get('/api/v1/balance')).body.data.balance;

  /** Every balance equals its ledger (billing.verify and the operator's ledger:verify). */
  async function assertBooksBalance() {
    const server = getServer();
    assert.deepEqual(await server.services.billing.verify(), [], 'every balance equals the sum of its ledger');
    assert.equal((await ledgerVerify.run(server.services, [])).exitCode, 0, 'ledger:verify passes');
  }

  return { oneNumberCountry, sms, buy, buyCompleted, complete, balanceOf, assertBooksBalance };
}

describe('reusing the number of a completed activation', () => {
  let server: TestServer;
  const h = helpersFor(() => server);

  before(async () => {
    server = await startTestServer({ env });
  });
  after(() => server.close());

  const reuse = (api: ApiClient, id: number, headers?: Record<string, string>) => api.post(`/api/v1/activations/${id}/reuse`, undefined, headers);

  function assertUnavailable(response: { status: number; body: any }, reason: RegExp) {
    assert.equal(response.status, 409, JSON.stringify(response.body));
    assert.equal(response.body.error.code, 'reuse_unavailable');
    assert.match(response.body.error.message, reason);
  }

  // Signed in afresh where needed: tests move the clock by a day, past a staff session's lifetime.
  async function numberIdOf(e164: string, admin: SignedInStaff): Promise<number> {
    const found = await admin.client.get(`/supply/numbers?q=${encodeURIComponent(e164.slice(1))}`);
    const row = found.body.data.numbers.find((n: { e164: string }) => n.e164 === e164);
    assert.ok(row, `number ${e164} not listed`);
    return row.id;
  }

  it('sells the same number for the same service again at the current price, and its SMS reaches the new activation', async () => {
    const { countryId, number, provider } = await h.oneNumberCountry();
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const source = await h.buyCompleted(api, countryId, provider);
    assert.equal(source.reused_from, null, 'a new purchase reuses nothing');
    await server.services.catalog.setPrice({ serviceCode: 'tg', countryId, price: 6000 });

    const reused = await reuse(api, source.id);
    assert.equal(reused.status, 201, JSON.stringify(reused.body));
    const activation: Activation = reused.body.data.activation;
    assert.notEqual(activation.id, source.id);
    assert.deepEqual(
      { number: activation.number, service: activation.service, country: activation.country, price: activation.price, status: activation.status, reused_from: activation.reused_from },
      { number, service: 'tg', country: countryId, price: 0.6, status: 'waiting', reused_from: source.id },
    );
    assert.equal(await h.balanceOf(api), 8.9, 'charged 0.50 for the purchase and today\'s 0.60 for the reuse');

    const pushed = await h.sms(provider, number, 'Telegram code: 11235');
    assert.equal(pushed.body.data.activation_id, activation.id, 'the SMS goes to the reuse');
    const read = (await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation;
    assert.equal(read.code, '11235');
    assert.equal(read.reused_from, source.id);
    const listed = (await api.get('/api/v1/activations?limit=1')).body.data.activations[0];
    assert.equal(listed.reused_from, source.id, 'the list shows it too');
    await h.assertBooksBalance();
  });

  it('answers a retry with the same Idempotency-Key with the first reuse, charged once', async () => {
    const { countryId, provider } = await h.oneNumberCountry();
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const source = await h.buyCompleted(api, countryId, provider);
    const first = await reuse(api, source.id, { 'idempotency-key': `reuse-${source.id}` });
    const retry = await reuse(api, source.id, { 'idempotency-key': `reuse-${source.id}` });
    assert.equal(first.status, 201);
    assert.equal(retry.status, 201);
    assert.equal(retry.body.data.activation.id, first.body.data.activation.id);
    assert.equal(await h.balanceOf(api), 9, 'the purchase and one reuse');

    const elsewhere = await h.oneNumberCountry();
    const other = await h.buyCompleted(api, elsewhere.countryId, elsewhere.provider);
    const conflict = await reuse(api, other.id, { 'idempotency-key': `reuse-${source.id}` });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'idempotency_conflict');
    const asPurchase = await api.post('/api/v1/activations', { service_code: 'tg', country_id: countryId }, { 'idempotency-key': `reuse-${source.id}` });
    assert.equal(asPurchase.body.error.code, 'idempotency_conflict', 'a key that made a reuse is no purchase');
    assert.equal(await h.balanceOf(api), 8.5, 'the purchase, one reuse and the other purchase');
  });

  it('refuses while the number serves another activation, and allows it once that one is finished', async () => {
    const { countryId, number, provider } = await h.oneNumberCountry();
    const owner = server.api((await server.createCompany('10')).apiKey);
    const rival = server.api((await server.createCompany('10')).apiKey);
    const source = await h.buyCompleted(owner, countryId, provider);
    const theirs = await h.buy(rival, countryId, 'wa');
    assert.equal(theirs.number, number, 'the other company got that very number for another service');

    assertUnavailable(await reuse(owner, source.id), /in use by another activation/);
    assert.equal(await h.balanceOf(owner), 9.5, 'a refused reuse charges nothing');

    server.clock.advance(180);
    assert.equal((await rival.post(`/api/v1/activations/${theirs.id}/cancel`)).status, 200);
    const reused = await reuse(owner, source.id);
    assert.equal(reused.status, 201, JSON.stringify(reused.body));
    assert.equal(reused.body.data.activation.number, number);
    await h.assertBooksBalance();
  });

  it('refuses while the number is rented', async () => {
    // The rentals module marks a rented number busy_rental_id; its API is built beside this one,
    // so the test puts the number in that state directly.
    const { countryId, number, provider } = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('10')).apiKey);
    const source = await h.buyCompleted(api, countryId, provider);
    const numberId = await numberIdOf(number, await signInStaff(server, 'admin'));
    await server.database.db.execute(sql`update phone_numbers set busy_rental_id = ${numberId + 9_000_000} where id = ${numberId}`);
    try {
      assertUnavailable(await reuse(api, source.id), /rented/);
    } finally {
      await server.database.db.execute(sql`update phone_numbers set busy_rental_id = null where id = ${numberId}`);
    }
    assert.equal((await reuse(api, source.id)).status, 201);
  });

  it('refuses once the reuse window has passed since the activation finished', async () => {
    const { countryId, provider } = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('10')).apiKey);
    const source = await h.buyCompleted(api, countryId, provider);
    server.clock.advance(server.config.reuseWindowSeconds + 1);
    assertUnavailable(await reuse(api, source.id), /could be reused until/);
    assert.equal(await h.balanceOf(api), 9.5);
  });

  it('refuses a number that was retired, or whose provider is off sale', async () => {
    const admin = await signInStaff(server, 'admin');
    const retired = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('10')).apiKey);
    const first = await h.buyCompleted(api, retired.countryId, retired.provider);
    const retire = await admin.client.post(`/supply/numbers/${await numberIdOf(retired.number, admin)}/retire`, { reason: 'SIM returned' });
    assert.equal(retire.status, 200, JSON.stringify(retire.body));
    assertUnavailable(await reuse(api, first.id), /no longer in our stock/);

    const disabled = await h.oneNumberCountry();
    const second = await h.buyCompleted(api, disabled.countryId, disabled.provider);
    const off = await admin.client.post(`/supply/providers/${disabled.provider.providerId}/disable`, { reason: 'maintenance' });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assertUnavailable(await reuse(api, second.id), /off sale/);
    assert.equal(await h.balanceOf(api), 9);
  });

  it("answers not_found for another company's activation, and for a member reusing the owner's", async () => {
    const { countryId, provider } = await h.oneNumberCountry();
    const owner = await server.createCompany('10');
    const source = await h.buyCompleted(server.api(owner.apiKey), countryId, provider);
    const stranger = server.api((await server.createCompany('10')).apiKey);
    const foreign = await reuse(stranger, source.id);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, 'not_found');
    const member = server.api((await server.addMember(owner.companyId)).apiKey);
    assert.equal((await reuse(member, source.id)).status, 404);
    assert.equal((await reuse(server.api(owner.apiKey), 999_999_999)).status, 404);
  });

  it('refuses an activation still open (invalid_state) and one that ended without a code (reuse_unavailable)', async () => {
    const { countryId } = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('10')).apiKey);
    const open = await h.buy(api, countryId);
    const refused = await reuse(api, open.id);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'invalid_state');
    assert.match(refused.body.error.message, /waiting/);

    server.clock.advance(180);
    assert.equal((await api.post(`/api/v1/activations/${open.id}/cancel`)).status, 200);
    assertUnavailable(await reuse(api, open.id), /ended without a code \(cancelled\)/);

    const second = await h.oneNumberCountry();
    const expired = await h.buy(api, second.countryId);
    server.clock.advance(server.config.activationLifetimeSeconds);
    await server.jobs.sweeper.runOnce();
    assertUnavailable(await reuse(api, expired.id), /ended without a code \(expired\)/);
  });

  it('refuses a reuse the balance cannot pay for, and leaves the number free', async () => {
    const { countryId, number, provider } = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('0.5')).apiKey);
    const source = await h.buyCompleted(api, countryId, provider);
    const refused = await reuse(api, source.id);
    assert.equal(refused.status, 402);
    assert.equal(refused.body.error.code, 'insufficient_balance');
    const other = server.api((await server.createCompany('10')).apiKey);
    assert.equal((await h.buy(other, countryId, 'wa')).number, number, 'the number went back to stock');
    await h.assertBooksBalance();
  });

  it('never reuses a number reported used or blocked for the service', async () => {
    const { countryId, provider } = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('10')).apiKey);
    const source = await h.buyCompleted(api, countryId, provider);
    const reused: Activation = (await reuse(api, source.id)).body.data.activation;
    const reported = await api.post(`/api/v1/activations/${reused.id}/report`, { reason: 'used' });
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    assertUnavailable(await reuse(api, source.id), /reported as used or blocked/);
    assert.equal(await h.balanceOf(api), 9.5, 'the reported reuse was refunded, the refused one never charged');
  });

  it('gives the number to exactly one of a reuse and another company buying it at the same moment, and the books stay right', async () => {
    const { countryId, number, provider } = await h.oneNumberCountry();
    const ownerApi = server.api((await server.createCompany('20')).apiKey);
    const rivalApi = server.api((await server.createCompany('20')).apiKey);
    const source = await h.buyCompleted(ownerApi, countryId, provider);
    const wins = { reuse: 0, buy: 0 };
    for (let round = 0; round < 6; round++) {
      // The rival asks for a service the number was never sold for, so it may get it.
      const service = `race${countryId}r${round}`;
      await server.services.catalog.upsertService({ code: service, name: `Race ${round}` });
      await server.services.catalog.setPrice({ serviceCode: service, countryId, price: 4000 });
      const [reused, bought] = await Promise.all([reuse(ownerApi, source.id), rivalApi.post('/api/v1/activations', { service_code: service, country_id: countryId })]);
      const winners = [reused, bought].filter((r) => r.status === 201);
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify([reused.body, bought.body])}`);
      assert.equal(winners[0].body.data.activation.number, number);
      if (reused.status === 201) {
        assert.equal(bought.body.error.code, 'out_of_stock');
        wins.reuse++;
        await h.complete(ownerApi, reused.body.data.activation, provider);
      } else {
        assert.equal(reused.body.error.code, 'reuse_unavailable');
        wins.buy++;
        server.clock.advance(180);
        assert.equal((await rivalApi.post(`/api/v1/activations/${bought.body.data.activation.id}/cancel`)).status, 200);
      }
      await h.assertBooksBalance();
    }
    assert.equal(wins.reuse + wins.buy, 6);
    assert.equal(await h.balanceOf(ownerApi), 20 - 0.5 * (1 + wins.reuse), 'the owner paid for each reuse it won, once');
    assert.equal(await h.balanceOf(rivalApi), 20, 'the rival got every cancel back');
  });
});

describe('reporting a bad number', () => {
  let server: TestServer;
  let admin: SignedInStaff;
  const h = helpersFor(() => server);

  before(async () => {
    server = await startTestServer({ env });
    admin = await signInStaff(server, 'admin');
  });
  after(() => server.close());

  const report = (api: ApiClient, id: number, body: unknown) => api.post(`/api/v1/activations/${id}/report`, body);

  it('cancels a "used" number at once with a full refund; the number is never sold again for that service, still for another', async () => {
    const { countryId, number } = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('10')).apiKey);
    const activation = await h.buy(api, countryId);
    // A poll before the report: its cached copy must not outlive the change.
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.status, 'waiting');

    const reported = await report(api, activation.id, { reason: 'used', note: '  Telegram says it is already registered  ' });
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    assert.equal(reported.body.data.activation.status, 'cancelled');
    assert.deepEqual(
      { reason: reported.body.data.report.reason, note: reported.body.data.report.note, refunded: reported.body.data.report.refunded },
      { reason: 'used', note: 'Telegram says it is already registered', refunded: true },
    );
    assert.match(reported.body.data.report.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(await h.balanceOf(api), 10, 'refunded in full, without the 3-minute wait');
    assert.equal((await api.get(`/api/v1/activations/${activation.id}`)).body.data.activation.status, 'cancelled', 'the poll shows it at once');

    const other = server.api((await server.createCompany('10')).apiKey);
    const sameService = await other.post('/api/v1/activations', { service_code: 'tg', country_id: countryId });
    assert.equal(sameService.status, 409);
    assert.equal(sameService.body.error.code, 'out_of_stock', 'never sold again for tg');
    assert.equal((await h.buy(other, countryId, 'wa')).number, number, 'still sold for another service');
    await h.assertBooksBalance();
  });

  it('counts a refunded report as a failed sale of the number and shows it in provider health', async () => {
    const { countryId, number, provider } = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('10')).apiKey);
    const activation = await h.buy(api, countryId);
    assert.equal((await report(api, activation.id, { reason: 'blocked' })).body.data.report.refunded, true);
    const found = await admin.client.get(`/supply/numbers?q=${encodeURIComponent(number.slice(1))}`);
    const row = found.body.data.numbers.find((n: { e164: string }) => n.e164 === number);
    assert.equal(row.consecutive_failures, 1);
    const providers = (await admin.client.get('/supply/providers')).body.data.providers;
    assert.equal(providers.find((p: { id: number }) => p.id === provider.providerId).reports, 1);
  });

  it('records "no_sms" without cancelling: the customer cancels after the usual delay', async () => {
    const { countryId } = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('10')).apiKey);
    const activation = await h.buy(api, countryId);
    const reported = await report(api, activation.id, { reason: 'no_sms' });
    assert.equal(reported.status, 200);
    assert.equal(reported.body.data.activation.status, 'waiting');
    assert.equal(reported.body.data.report.refunded, false);
    assert.equal(reported.body.data.report.note, null);
    assert.equal(await h.balanceOf(api), 9.5);
    assert.equal((await api.post(`/api/v1/activations/${activation.id}/cancel`)).body.error.code, 'too_early');

    const again = await report(api, activation.id, { reason: 'used' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'invalid_state');
    assert.match(again.body.error.message, /already reported/);
    assert.equal(await h.balanceOf(api), 9.5, 'a second report refunds nothing');

    server.clock.advance(180);
    assert.equal((await api.post(`/api/v1/activations/${activation.id}/cancel`)).status, 200);
    assert.equal(await h.balanceOf(api), 10);
    await h.assertBooksBalance();
  });

  it('refuses a report on an activation that is no longer waiting, or not visible to the key', async () => {
    const { countryId, provider } = await h.oneNumberCountry();
    const owner = await server.createCompany('10');
    const api = server.api(owner.apiKey);
    const completed = await h.buyCompleted(api, countryId, provider);
    const refused = await report(api, completed.id, { reason: 'used' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'invalid_state');
    assert.equal(await h.balanceOf(api), 9.5, 'a completed activation stays paid');

    const second = await h.oneNumberCountry();
    const waiting = await h.buy(api, second.countryId);
    const stranger = server.api((await server.createCompany('10')).apiKey);
    assert.equal((await report(stranger, waiting.id, { reason: 'used' })).status, 404);
    const member = server.api((await server.addMember(owner.companyId)).apiKey);
    assert.equal((await report(member, waiting.id, { reason: 'used' })).body.error.code, 'not_found');
  });

  it('answers 400 invalid_request for a reason it does not know, a note too long, or no body', async () => {
    const { countryId } = await h.oneNumberCountry();
    const api = server.api((await server.createCompany('10')).apiKey);
    const activation = await h.buy(api, countryId);
    for (const body of [{ reason: 'bad_mood' }, { reason: 'used', note: 'x'.repeat(501) }, { reason: 'used', extra: 1 }, {}, undefined]) {
      const answer = await report(api, activation.id, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.ok, false);
      assert.equal(answer.body.error.code, 'invalid_request');
    }
    assert.equal((await report(api, activation.id, { reason: 'used', note: 'x'.repeat(500) })).status, 200, 'a 500-character note is fine');
  });

  it('queues activation.reported with the report, in the transaction of the report', async () => {
    const received: any[] = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(JSON.parse(body));
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { countryId } = await h.oneNumberCountry();
      const api = server.api((await server.createCompany('10')).apiKey);
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const created = await api.post('/api/v1/webhooks', { url, events: ['activation.reported'] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const webhookId = created.body.data.webhook.id;

      const activation = await h.buy(api, countryId);
      await report(api, activation.id, { reason: 'used', note: 'taken' });
      // Queued by the time the report is answered (the outbox row commits with it).
      const queued = (await api.get(`/api/v1/webhooks/${webhookId}/deliveries`)).body.data.deliveries;
      assert.deepEqual(
        queued.map((d: { event: string }) => d.event),
        ['activation.reported'],
        'only the subscribed event',
      );

      await server.services.webhooks.deliverDue();
      assert.equal(received.length, 1);
      assert.equal(received[0].type, 'activation.reported');
      assert.equal(received[0].data.activation.id, activation.id);
      assert.equal(received[0].data.activation.status, 'cancelled', 'the activation as the report left it');
      assert.deepEqual({ ...received[0].data.report, created_at: undefined }, { reason: 'used', note: 'taken', refunded: true, created_at: undefined });
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('lists reports in the back office, newest first, for admins only', async () => {
    const { countryId, number, provider } = await h.oneNumberCountry();
    const company = await server.createCompany('10');
    const api = server.api(company.apiKey);
    const activation = await h.buy(api, countryId);
    await report(api, activation.id, { reason: 'other', note: 'wrong country prefix' });

    const listed = await admin.client.get(`/monitor/reports?company_id=${company.companyId}&limit=10`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.data.total, 1);
    const row = listed.body.data.reports[0];
    assert.deepEqual(
      {
        company: row.company.id,
        activation: row.activation,
        number: row.number,
        service: row.service,
        provider: row.provider.id,
        reason: row.reason,
        note: row.note,
        refunded: row.refunded,
      },
      { company: company.companyId, activation: { id: activation.id, status: 'waiting' }, number, service: 'tg', provider: provider.providerId, reason: 'other', note: 'wrong country prefix', refunded: false },
    );
    assert.match(row.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    const all = await admin.client.get('/monitor/reports?limit=1');
    assert.equal(all.body.data.reports.length, 1);
    assert.ok(all.body.data.total >= 1);
    assert.equal(all.body.data.reports[0].id, row.id, 'the newest first');
    const byReason = await admin.client.get('/monitor/reports?reason=other&limit=50');
    assert.ok(byReason.body.data.reports.every((r: { reason: string }) => r.reason === 'other'));
    assert.equal((await admin.client.get('/monitor/reports?reason=nonsense')).status, 400);

    const support = await signInStaff(server, 'support');
    assert.equal((await support.client.get('/monitor/reports')).status, 403);
  });
});

describe('the abuse guard on report refunds', () => {
  let server: TestServer;
  const h = helpersFor(() => server);

  before(async () => {
    // A company with at least 4 purchases in 30 days gets at most a quarter of them refunded by reports.
    server = await startTestServer({ env: { ...env, NOVA_REPORT_REFUND_MAX_SHARE: '0.25', NOVA_REPORT_REFUND_MIN_PURCHASES: '4' } });
  });
  after(() => server.close());

  it('records a "used" report without the refund once the company would pass the share; the activation waits as usual', async () => {
    const provider = await server.createProvider({ countryId: 6, count: 10 });
    const api = server.api((await server.createCompany('10')).apiKey);
    const bought = [];
    for (let i = 0; i < 4; i++) bought.push(await h.buy(api, 6));
    assert.equal(bought.filter((a) => provider.numbers.includes(a.number)).length, 4);

    const first = await api.post(`/api/v1/activations/${bought[0].id}/report`, { reason: 'used' });
    assert.equal(first.body.data.report.refunded, true, '1 of 4 is within a quarter');
    const second = await api.post(`/api/v1/activations/${bought[1].id}/report`, { reason: 'blocked' });
    assert.equal(second.status, 200);
    assert.equal(second.body.data.report.refunded, false, '2 of 4 would be more than a quarter');
    assert.equal(second.body.data.activation.status, 'waiting');
    assert.equal(await h.balanceOf(api), 8.5, 'only the first report refunded');

    // Still a normal activation: cancelled after the delay, refunded then.
    server.clock.advance(180);
    assert.equal((await api.post(`/api/v1/activations/${bought[1].id}/cancel`)).status, 200);
    assert.equal(await h.balanceOf(api), 9);
    await h.assertBooksBalance();
  });

  it('does not apply below the minimum number of purchases', async () => {
    await server.createProvider({ countryId: 6, count: 3 });
    const api = server.api((await server.createCompany('10')).apiKey);
    const bought = [];
    for (let i = 0; i < 3; i++) bought.push(await h.buy(api, 6));
    for (const activation of bought) {
      const answer = await api.post(`/api/v1/activations/${activation.id}/report`, { reason: 'used' });
      assert.equal(answer.body.data.report.refunded, true);
    }
    assert.equal(await h.balanceOf(api), 10);
  });
});
