import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import { type SignedInStaff, signInStaff } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';
import { signUp, webClient } from '../web/web-client.ts';

describe('console: customers and money', () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let support: SignedInStaff;
  before(async () => {
    server = await startTestServer();
    [admin, support] = await Promise.all([signInStaff(server, 'admin'), signInStaff(server, 'support')]);
  });
  after(async () => {
    await server.close();
  });

  /** A company signed up on the website (owner signed in), with its owner's API key and `topUp` USD. */
  async function customer(options: { topUp?: number } = {}) {
    const companyName = uniqueName('Acme');
    const owner = await signUp(server, { companyName });
    const apiKey: string = (await owner.client.get('/api-key')).body.data.api_key;
    const companyId = owner.account.company_id;
    if (options.topUp) await server.services.billing.credit({ companyId, amount: options.topUp * 10_000, kind: 'topup', reason: 'test top-up' });
    return { ...owner, companyName, companyId, apiKey };
  }

  /** The audit entries of one target, newest first. */
  const auditOf = (targetType: string, targetId: number, action: string) =>
    server.services.audit.list({ targetType, targetId: String(targetId), action, limit: 10 });

  describe('finding a company', () => {
    it('finds a company by a member email, a number it bought, an activation id and its name, and says what matched', async () => {
      const acme = await customer({ topUp: 5 });
      const { numbers } = await server.createProvider({ countryId: 6, count: 1 });
      const bought = await server.api(acme.apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
      assert.equal(bought.status, 201, JSON.stringify(bought.body));
      const activationId: number = bought.body.data.activation.id;
      const number = numbers[0];

      const search = async (q: string) => {
        const answer = await admin.client.get(`/companies?q=${encodeURIComponent(q)}`);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        return answer.body.data as { companies: any[]; total: number };
      };
      const hit = (result: { companies: any[] }) => result.companies.find((c) => c.id === acme.companyId);

      const byEmail = hit(await search(acme.email.slice(0, 20).toUpperCase()));
      assert.deepEqual(byEmail.matched, [{ field: 'email', value: acme.email }]);
      assert.deepEqual(
        { ...byEmail, created_at: undefined },
        { id: acme.companyId, name: acme.companyName, balance: 4.5, members: 1, blocked: false, blocked_at: null, blocked_reason: null, created_at: undefined, matched: byEmail.matched },
      );
      assert.match(byEmail.created_at, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

      // Typed the way a customer reads it out: "+1 (201) 555-1000".
      const spaced = `+${number.slice(1, 2)} (${number.slice(2, 5)}) ${number.slice(5, 8)}-${number.slice(8)}`;
      assert.deepEqual(hit(await search(spaced)).matched, [{ field: 'phone', value: number }]);
      assert.ok(hit(await search(String(activationId))).matched.some((m: any) => m.field === 'activation' && m.value === String(activationId)));
      assert.deepEqual(hit(await search(acme.companyName.slice(2).toLowerCase())).matched, [{ field: 'name', value: acme.companyName }]);
      assert.ok(hit(await search(String(acme.companyId))).matched.some((m: any) => m.field === 'id'));

      const nothing = await search('no-such-company-anywhere');
      assert.deepEqual(nothing, { companies: [], total: 0, limit: 25, offset: 0 });
      // LIKE's wildcards are matched literally, not as "anything".
      assert.equal(hit(await search('%')), undefined);
    });

    it('lists every company newest first, paged, when there is no search term', async () => {
      const older = await customer();
      const newer = await customer();
      const first = await admin.client.get('/companies?limit=2');
      assert.equal(first.status, 200);
      assert.equal(first.body.data.limit, 2);
      assert.ok(first.body.data.total >= 2);
      assert.equal(first.body.data.companies.length, 2);
      const ids = first.body.data.companies.map((c: any) => c.id);
      assert.ok(ids[0] > ids[1]);
      const all = await admin.client.get('/companies?limit=100');
      const allIds = all.body.data.companies.map((c: any) => c.id);
      assert.ok(allIds.indexOf(newer.companyId) < allIds.indexOf(older.companyId));
      const second = await admin.client.get('/companies?limit=1&offset=1');
      assert.equal(second.body.data.companies[0].id, allIds[1]);
    });

    it('refuses a malformed search with 400 invalid_request, never a 500', async () => {
      for (const query of ['limit=0', 'limit=101', 'offset=-1', 'limit=abc', `q=${'x'.repeat(201)}`, 'extra=1']) {
        const answer = await admin.client.get(`/companies?${query}`);
        assert.equal(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'invalid_request');
      }
      // A number too large to be any id is just a search term that matches nothing.
      const huge = await admin.client.get('/companies?q=99999999999999');
      assert.equal(huge.status, 200);
      assert.equal(huge.body.data.total, 0);
    });
  });

  describe('a company in detail', () => {
    it('shows members with their key prefix (removed members marked), activations and the ledger, paged', async () => {
      const acme = await customer({ topUp: 3 });
      const member = await server.addMember(acme.companyId);
      const leaver = await server.addMember(acme.companyId);
      const removed = await acme.client.post(`/team/members/${leaver.accountId}/remove`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      await server.createProvider({ countryId: 6, count: 2 });
      const bought = await server.api(member.apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
      assert.equal(bought.status, 201);

      const detail = await support.client.get(`/companies/${acme.companyId}`);
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      const { company, members } = detail.body.data;
      assert.equal(company.id, acme.companyId);
      assert.equal(company.balance, 2.5);
      assert.equal(company.members, 2);
      assert.deepEqual(
        members.map((m: any) => [m.id, m.email, m.role, m.key_prefix, m.removed]),
        [
          [acme.account.id, acme.email, 'owner', acme.apiKey.slice(0, 9), false],
          [member.accountId, members[1].email, 'member', member.apiKey.slice(0, 9), false],
          [leaver.accountId, members[2].email, 'member', null, true],
        ],
      );
      assert.match(members[2].removed_at, /^\d{4}-/);
      assert.equal(members[2].key_created_at, null);

      const activations = await support.client.get(`/companies/${acme.companyId}/activations?limit=10`);
      assert.equal(activations.status, 200);
      assert.equal(activations.body.data.total, 1);
      const [activation] = activations.body.data.activations;
      assert.equal(activation.id, bought.body.data.activation.id);
      assert.equal(activation.account_id, member.accountId);
      assert.equal(activation.service, 'tg');
      assert.equal(activation.country, 6);
      assert.equal(activation.price, 0.5);
      assert.equal(activation.status, 'waiting');

      const ledger = await support.client.get(`/companies/${acme.companyId}/ledger?limit=1`);
      assert.equal(ledger.status, 200);
      assert.equal(ledger.body.data.total, 2);
      assert.equal(ledger.body.data.entries.length, 1);
      const [purchase] = ledger.body.data.entries;
      assert.equal(purchase.kind, 'purchase');
      assert.equal(purchase.amount, -0.5);
      assert.equal(purchase.balance_after, 2.5);
      assert.equal(purchase.activation_id, activation.id);
      assert.equal(purchase.audit_id, null);
      const older = await support.client.get(`/companies/${acme.companyId}/ledger?limit=1&offset=1`);
      assert.equal(older.body.data.entries[0].kind, 'topup');
    });

    it('answers 404 for a company that does not exist and 400 for an id that cannot be one', async () => {
      for (const path of ['/companies/999999', '/companies/999999/ledger', '/companies/999999/activations']) {
        const answer = await admin.client.get(path);
        assert.equal(answer.status, 404, path);
        assert.equal(answer.body.error.code, 'not_found');
      }
      for (const path of ['/companies/abc', '/companies/0', '/companies/99999999999', '/companies/1/ledger?limit=1000']) {
        const answer = await admin.client.get(path);
        assert.equal(answer.status, 400, path);
        assert.equal(answer.body.error.code, 'invalid_request');
      }
    });
  });

  describe('balance adjustments', () => {
    it('credits a company: the ledger adjustment names its audit entry, and the customer sees it on the website and API', async () => {
      const acme = await customer({ topUp: 1 });
      const credited = await admin.client.post(`/companies/${acme.companyId}/adjustments`, { amount: 12.5, reason: 'Goodwill for the outage on June 2' });
      assert.equal(credited.status, 200, JSON.stringify(credited.body));
      const { entry, balance, audit_id: auditId } = credited.body.data;
      assert.equal(balance, 13.5);
      assert.equal(entry.kind, 'adjustment');
      assert.equal(entry.amount, 12.5);
      assert.equal(entry.balance_after, 13.5);
      assert.equal(entry.reason, 'Goodwill for the outage on June 2');
      assert.equal(entry.audit_id, auditId);

      const [audit] = await auditOf('company', acme.companyId, 'balance.adjust');
      assert.equal(audit.id, auditId);
      assert.equal(audit.staffId, admin.staffId);
      assert.equal(audit.actor, `staff:${admin.email}`);
      assert.deepEqual(audit.before, { balance: 1 });
      assert.deepEqual(audit.after, { balance: 13.5, amount: 12.5 });
      assert.equal(audit.reason, 'Goodwill for the outage on June 2');

      const ledger = await admin.client.get(`/companies/${acme.companyId}/ledger`);
      assert.equal(ledger.body.data.entries[0].audit_id, auditId);

      const transactions = await acme.client.get('/transactions');
      assert.equal(transactions.status, 200);
      const [latest] = transactions.body.data.transactions;
      assert.deepEqual([latest.kind, latest.amount, latest.balance_after, latest.reason], ['adjustment', 12.5, 13.5, 'Goodwill for the outage on June 2']);
      const apiBalance = await server.api(acme.apiKey).get('/api/v1/balance');
      assert.deepEqual(apiBalance.body.data, { balance: 13.5, currency: 'USD' });
      assert.deepEqual(await server.services.billing.verify(), []);
    });

    it('debits with a decimal string, and refuses a debit below zero without writing a ledger row or an audit entry', async () => {
      const acme = await customer({ topUp: 3 });
      const debited = await admin.client.post(`/companies/${acme.companyId}/adjustments`, { amount: '-2.25', reason: 'Chargeback' });
      assert.equal(debited.status, 200, JSON.stringify(debited.body));
      assert.equal(debited.body.data.balance, 0.75);
      assert.equal(debited.body.data.entry.amount, -2.25);

      const tooMuch = await admin.client.post(`/companies/${acme.companyId}/adjustments`, { amount: -0.7501, reason: 'Chargeback' });
      assert.equal(tooMuch.status, 402);
      assert.equal(tooMuch.body.error.code, 'insufficient_balance');
      assert.match(tooMuch.body.error.message, /0\.7501 USD.*0\.7500 USD/);
      const ledger = await admin.client.get(`/companies/${acme.companyId}/ledger`);
      assert.equal(ledger.body.data.total, 2);
      assert.equal((await auditOf('company', acme.companyId, 'balance.adjust')).length, 1);

      // Down to exactly zero is allowed.
      const toZero = await admin.client.post(`/companies/${acme.companyId}/adjustments`, { amount: -0.75, reason: 'Close account' });
      assert.equal(toZero.body.data.balance, 0);
    });

    it('refuses a zero, over-precise or unreadable amount, a missing reason and an unknown company', async () => {
      const acme = await customer({ topUp: 1 });
      const bad: [unknown, number, string][] = [
        [{ amount: 0, reason: 'x' }, 400, 'invalid_request'],
        [{ amount: '0.0000', reason: 'x' }, 400, 'invalid_request'],
        [{ amount: 0.00001, reason: 'x' }, 400, 'invalid_request'],
        [{ amount: '1.23456', reason: 'x' }, 400, 'invalid_request'],
        [{ amount: 'ten', reason: 'x' }, 400, 'invalid_request'],
        [{ amount: 5 }, 400, 'invalid_request'],
        [{ amount: 5, reason: '' }, 400, 'invalid_request'],
        [{ amount: 5, reason: '   ' }, 400, 'invalid_request'],
        [{ amount: 5, reason: 'x'.repeat(501) }, 400, 'invalid_request'],
        [{ amount: 5, reason: 'x', extra: true }, 400, 'invalid_request'],
      ];
      for (const [body, status, code] of bad) {
        const answer = await admin.client.post(`/companies/${acme.companyId}/adjustments`, body);
        assert.equal(answer.status, status, JSON.stringify(body));
        assert.equal(answer.body.error.code, code, JSON.stringify(body));
      }
      const unknown = await admin.client.post('/companies/999999/adjustments', { amount: 5, reason: 'x' });
      assert.equal(unknown.status, 404);
      assert.equal((await admin.client.get(`/companies/${acme.companyId}/ledger`)).body.data.total, 1);
      assert.equal((await auditOf('company', acme.companyId, 'balance.adjust')).length, 0);
    });
  });

  describe('blocking a company', () => {
    it("turns the company's keys and website session away with 403 account_blocked until it is unblocked", async () => {
      const acme = await customer({ topUp: 2 });
      const member = await server.addMember(acme.companyId);
      const blocked = await admin.client.post(`/companies/${acme.companyId}/block`, { reason: 'Suspected card fraud' });
      assert.equal(blocked.status, 200, JSON.stringify(blocked.body));
      assert.equal(blocked.body.data.company.blocked, true);
      assert.equal(blocked.body.data.company.blocked_reason, 'Suspected card fraud');
      assert.match(blocked.body.data.company.blocked_at, /^\d{4}-/);

      const [audit] = await auditOf('company', acme.companyId, 'company.block');
      assert.equal(audit.actor, `staff:${admin.email}`);
      assert.deepEqual(audit.before, { blocked: false });
      assert.deepEqual(audit.after, { blocked: true, blocked_reason: 'Suspected card fraud' });
      assert.equal(audit.reason, 'Suspected card fraud');

      for (const key of [acme.apiKey, member.apiKey]) {
        for (const answer of [
          await server.api(key).get('/api/v1/balance'),
          await server.api(key).get('/api/v1/activations'),
          await server.api(key).post('/api/v1/activations', { service_code: 'tg', country_id: 6 }),
        ]) {
          assert.equal(answer.status, 403);
          assert.equal(answer.body.error.code, 'account_blocked');
          assert.match(answer.body.error.message, /contact .*support/i);
          // The internal reason stays with staff.
          assert.doesNotMatch(answer.body.error.message, /fraud/);
        }
      }
      const compat = await fetch(`${server.url}/stubs/handler_api.php?api_key=${acme.apiKey}&action=getBalance`);
      assert.equal(await compat.text(), 'BANNED');

      const website = await acme.client.get('/balance');
      assert.equal(website.status, 403);
      assert.equal(website.body.error.code, 'account_blocked');
      assert.equal((await acme.client.get('/transactions')).body.error.code, 'account_blocked');
      const session = await acme.client.get('/session');
      assert.equal(session.status, 200);
      assert.equal(session.body.data.account.company_id, acme.companyId);
      assert.equal(session.body.data.blocked, true);
      assert.match(session.body.data.blocked_message, /contact .*support/i);

      const again = await admin.client.post(`/companies/${acme.companyId}/block`, { reason: 'twice' });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'invalid_state');

      const unblocked = await admin.client.post(`/companies/${acme.companyId}/unblock`, { reason: 'Card owner confirmed' });
      assert.equal(unblocked.status, 200, JSON.stringify(unblocked.body));
      assert.deepEqual([unblocked.body.data.company.blocked, unblocked.body.data.company.blocked_at, unblocked.body.data.company.blocked_reason], [false, null, null]);
      const [unblock] = await auditOf('company', acme.companyId, 'company.unblock');
      assert.deepEqual(unblock.before, { blocked: true, blocked_reason: 'Suspected card fraud' });
      assert.deepEqual(unblock.after, { blocked: false });
      assert.equal(unblock.reason, 'Card owner confirmed');

      assert.deepEqual((await server.api(acme.apiKey).get('/api/v1/balance')).body.data, { balance: 2, currency: 'USD' });
      assert.equal((await server.api(member.apiKey).get('/api/v1/balance')).status, 200);
      assert.equal((await acme.client.get('/balance')).status, 200);
      const after = await acme.client.get('/session');
      assert.deepEqual([after.body.data.blocked, after.body.data.blocked_message], [false, null]);

      const notBlocked = await admin.client.post(`/companies/${acme.companyId}/unblock`, {});
      assert.equal(notBlocked.status, 409);
    });

    it('a blocked company still reaches the support chat, which is where its message sends it', async () => {
      const acme = await customer();
      await admin.client.post(`/companies/${acme.companyId}/block`, { reason: 'Unpaid invoice' });
      const started = await acme.client.post('/chat/conversations', {});
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const sent = await acme.client.post('/chat/messages', { text: 'Why is my account blocked?' }, { 'x-visitor-token': started.body.data.visitor_token });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
    });

    it('needs a reason to block, and a company that exists', async () => {
      const acme = await customer();
      for (const body of [{}, { reason: '' }, { reason: '  ' }]) {
        const answer = await admin.client.post(`/companies/${acme.companyId}/block`, body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal(answer.body.error.code, 'invalid_request');
      }
      assert.equal((await server.api(acme.apiKey).get('/api/v1/balance')).status, 200);
      assert.equal((await admin.client.post('/companies/999999/block', { reason: 'x' })).status, 404);
      assert.equal((await auditOf('company', acme.companyId, 'company.block')).length, 0);
    });
  });

  describe("rotating a member's key", () => {
    it('stops the old key at once, gives the member a new one on the website, and audits the prefixes', async () => {
      const acme = await customer({ topUp: 1 });
      const oldPrefix = acme.apiKey.slice(0, 9);
      const rotated = await admin.client.post(`/companies/${acme.companyId}/members/${acme.account.id}/rotate-key`);
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      const { member } = rotated.body.data;
      assert.equal(member.id, acme.account.id);
      assert.notEqual(member.key_prefix, oldPrefix);
      assert.equal(rotated.body.data.api_key, undefined, 'staff never see the new key');

      const old = await server.api(acme.apiKey).get('/api/v1/balance');
      assert.equal(old.status, 401);
      assert.equal(old.body.error.code, 'unauthorized');
      const newKey: string = (await acme.client.get('/api-key')).body.data.api_key;
      assert.equal(newKey.slice(0, 9), member.key_prefix);
      assert.equal((await server.api(newKey).get('/api/v1/balance')).status, 200);

      const [audit] = await auditOf('account', acme.account.id, 'api_key.rotate');
      assert.equal(audit.actor, `staff:${admin.email}`);
      assert.deepEqual(audit.before, { key_prefix: oldPrefix });
      assert.deepEqual(audit.after, { key_prefix: member.key_prefix });
    });

    it('audits a rotation by the operator CLI (key:rotate) with the actor "cli"', async () => {
      const acme = await customer();
      const newKey = await server.services.accounts.rotateApiKey(acme.account.id, cliActor);
      assert.equal((await server.api(acme.apiKey).get('/api/v1/balance')).status, 401);
      const [audit] = await auditOf('account', acme.account.id, 'api_key.rotate');
      assert.deepEqual([audit.actor, audit.staffId, audit.before, audit.after], ['cli', null, { key_prefix: acme.apiKey.slice(0, 9) }, { key_prefix: newKey.slice(0, 9) }]);
    });

    it('answers 404 for a member of another company or a removed member, and rotates nothing', async () => {
      const acme = await customer();
      const other = await customer();
      const leaver = await server.addMember(acme.companyId);
      await acme.client.post(`/team/members/${leaver.accountId}/remove`);
      for (const [companyId, accountId] of [
        [acme.companyId, other.account.id],
        [acme.companyId, leaver.accountId],
        [999999, acme.account.id],
      ]) {
        const answer = await admin.client.post(`/companies/${companyId}/members/${accountId}/rotate-key`);
        assert.equal(answer.status, 404, `${companyId}/${accountId}`);
        assert.equal(answer.body.error.code, 'not_found');
      }
      assert.equal((await server.api(other.apiKey).get('/api/v1/balance')).status, 200);
      assert.equal((await auditOf('account', other.account.id, 'api_key.rotate')).length, 0);
    });
  });

  describe('who may do what', () => {
    it('lets support staff read customers but change nothing; customers and anonymous visitors get 403 everywhere', async () => {
      const acme = await customer({ topUp: 1 });
      const reads = ['/companies', `/companies?q=${encodeURIComponent(acme.email)}`, `/companies/${acme.companyId}`, `/companies/${acme.companyId}/activations`, `/companies/${acme.companyId}/ledger`];
      const changes: [string, unknown][] = [
        [`/companies/${acme.companyId}/adjustments`, { amount: 100, reason: 'support tries' }],
        [`/companies/${acme.companyId}/block`, { reason: 'support tries' }],
        [`/companies/${acme.companyId}/unblock`, {}],
        [`/companies/${acme.companyId}/members/${acme.account.id}/rotate-key`, undefined],
      ];
      for (const path of reads) assert.equal((await support.client.get(path)).status, 200, path);
      for (const [path, body] of changes) {
        const answer = await support.client.post(path, body);
        assert.equal(answer.status, 403, path);
        assert.equal(answer.body.error.code, 'forbidden');
        assert.match(answer.body.error.message, /admin/);
      }

      // The customer's own website cookie, pointed at the console, and a visitor with no session at all.
      const asCustomer = webClient(server.url, { apiBase: '/api/console', csrfCookie: 'nova_console_csrf' });
      for (const [name, value] of acme.client.cookies) asCustomer.cookies.set(name, value);
      await asCustomer.start();
      const anonymous = webClient(server.url, { apiBase: '/api/console', csrfCookie: 'nova_console_csrf' });
      await anonymous.start();
      for (const client of [asCustomer, anonymous]) {
        for (const path of reads) assert.equal((await client.get(path)).status, 403, path);
        for (const [path, body] of changes) {
          const answer = await client.post(path, body);
          assert.equal(answer.status, 403, path);
          assert.equal(answer.body.error.code, 'forbidden');
        }
      }

      // Nothing changed: balance, key and blocked state are as they were.
      assert.deepEqual((await server.api(acme.apiKey).get('/api/v1/balance')).body.data, { balance: 1, currency: 'USD' });
      const detail = await admin.client.get(`/companies/${acme.companyId}`);
      assert.equal(detail.body.data.company.blocked, false);
      assert.equal(detail.body.data.members[0].key_prefix, acme.apiKey.slice(0, 9));
    });
  });
});
