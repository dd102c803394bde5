import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Services } from '../../src/app.ts';
import { runOperatorCommand } from '../../src/cli/control-socket.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';

/**
 * Every operator CLI command that changes money, stock, providers or customers writes its audit
 * entry (actor "cli") in the transaction of the change. The commands run in-process on a test
 * server's services: the code path the CLI takes, without spawning it.
 */
describe('operator CLI audit entries', () => {
  let server: TestServer;
  let services: Services;

  before(async () => {
    // One activation without SMS takes a number off sale, for numbers:enable.
    server = await startTestServer({ env: { NOVA_NUMBER_MAX_FAILURES: '1' } });
    services = server.services;
  });
  after(() => server.close());

  async function cli(name: string, args: string[]): Promise<any> {
    const reply = await runOperatorCommand(services, name, args);
    assert.ok(reply.ok, `${name}: ${JSON.stringify(reply.error)}`);
    return reply.output!.json;
  }

  async function auditOf(action: string, targetType: string, targetId: number) {
    const entries = await services.audit.list({ action, targetType, targetId: String(targetId), limit: 10 });
    assert.equal(entries.length, 1, `one ${action} entry for ${targetType} ${targetId}`);
    const [entry] = entries;
    assert.equal(entry!.actor, 'cli');
    assert.equal(entry!.staffId, null);
    return entry!;
  }

  it('company:create writes company.create, and its --credit is an audited adjustment whose ledger row names its entry', async () => {
    const email = `${uniqueName('owner')}@example.com`;
    const name = uniqueName('Acme');
    const created = await cli('company:create', ['--name', name, '--owner-email', email, '--password', 'a long password', '--credit', '25']);
    assert.equal(created.balance, 25);

    const entry = await auditOf('company.create', 'company', created.company_id);
    assert.deepEqual(entry.after, { name, owner: { account_id: created.account_id, email, role: 'owner' } });
    assert.equal(entry.before, null);
    const text = JSON.stringify(entry);
    assert.ok(!text.includes(created.api_key) && !text.includes('a long password'), 'no key or password in the audit log');

    const adjusted = await auditOf('balance.adjust', 'company', created.company_id);
    assert.deepEqual([adjusted.before, adjusted.after, adjusted.reason], [{ balance: 0 }, { balance: 25, amount: 25 }, 'Initial credit (operator CLI)']);
    const ledger = await services.billing.ledger(created.company_id, { limit: 10, offset: 0 });
    assert.equal(ledger.length, 1);
    assert.deepEqual([ledger[0]!.kind, ledger[0]!.amount, ledger[0]!.auditId], ['adjustment', 250_000, adjusted.id]);
  });

  it('company:create without --credit writes no adjustment', async () => {
    const created = await cli('company:create', ['--name', uniqueName('Free'), '--owner-email', `${uniqueName('owner')}@example.com`]);
    await auditOf('company.create', 'company', created.company_id);
    assert.deepEqual(await services.audit.list({ action: 'balance.adjust', targetType: 'company', targetId: String(created.company_id), limit: 5 }), []);
  });

  it('a refused company:create writes nothing', async () => {
    const email = `${uniqueName('owner')}@example.com`;
    await cli('company:create', ['--name', uniqueName('First'), '--owner-email', email]);
    const before = (await services.audit.list({ action: 'company.create', limit: 200 })).length;
    const reply = await runOperatorCommand(services, 'company:create', ['--name', uniqueName('Second'), '--owner-email', email]);
    assert.equal(reply.error?.code, 'conflict');
    assert.equal((await services.audit.list({ action: 'company.create', limit: 200 })).length, before);
  });

  it('member:add writes member.add on the new account', async () => {
    const { companyId } = await server.createCompany();
    const email = `${uniqueName('member')}@example.com`;
    const added = await cli('member:add', ['--company', String(companyId), '--email', email, '--password', 'another long password']);
    const entry = await auditOf('member.add', 'account', added.account_id);
    assert.deepEqual(entry.after, { company_id: companyId, email, role: 'member' });
    const text = JSON.stringify(entry);
    assert.ok(!text.includes(added.api_key) && !text.includes('another long password'));

    const refused = await runOperatorCommand(services, 'member:add', ['--company', '999999', '--email', `${uniqueName('m')}@example.com`]);
    assert.equal(refused.error?.code, 'not_found');
  });

  it('provider:create writes provider.create without the secret; provider:enable writes provider.enable', async () => {
    const name = uniqueName('pushco');
    const created = await cli('provider:create', ['--name', name, '--cost', '0.05']);
    assert.match(created.secret, /^nps_/);
    const entry = await auditOf('provider.create', 'provider', created.provider_id);
    assert.equal(entry.after && (entry.after as { name: string; kind: string }).name, name);
    assert.equal((entry.after as { kind: string }).kind, 'http');
    assert.equal((entry.after as { cost_per_number: number }).cost_per_number, 500);
    assert.ok(!JSON.stringify(entry).includes(created.secret), 'the secret stays out of the audit log');

    const gateway = await cli('provider:create', ['--kind', 'android-gateway', '--name', uniqueName('pixel'), '--signing-key', 'sign-me-please-123']);
    assert.equal(gateway.signing_key, 'sign-me-please-123');
    assert.ok(!JSON.stringify(await auditOf('provider.create', 'provider', gateway.provider_id)).includes('sign-me-please-123'));

    // Enabling an enabled provider is refused, as in the console, and writes nothing.
    const refused = await runOperatorCommand(services, 'provider:enable', ['--provider', String(created.provider_id)]);
    assert.equal(refused.error?.code, 'invalid_state');
    await services.supplyConsole.disableProvider({ staffId: null, label: 'system' }, created.provider_id, 'test');
    const enabled = await cli('provider:enable', ['--provider', String(created.provider_id)]);
    assert.deepEqual(enabled.provider, { provider_id: created.provider_id, name, kind: 'http', enabled: true });
    const enable = await auditOf('provider.enable', 'provider', created.provider_id);
    assert.deepEqual(enable.after, { enabled: true });
    assert.equal((enable.before as { enabled: boolean }).enabled, false);
    assert.equal((await services.supply.providerHealth(created.provider_id))[0]!.enabled, true);
  });

  it('numbers:add writes numbers.add (count and numbers); numbers:enable writes number.enable with before/after', async () => {
    const provider = await cli('provider:create', ['--name', uniqueName('stock')]);
    const numbers = ['+447700900501', '+447700900502'];
    const operator = uniqueName('op');
    const added = await cli('numbers:add', ['--provider', String(provider.provider_id), '--country', '16', '--operator', operator, ...numbers]);
    assert.equal(added.added, 2);
    const entry = await auditOf('numbers.add', 'provider', provider.provider_id);
    assert.deepEqual(entry.after, { count: 2, skipped: 0, numbers });
    const stock = await services.supplyConsole.listNumbers({ providerId: provider.provider_id }, { limit: 10, offset: 0 });
    assert.equal(stock.total, 2);

    // Bad input is refused before anything is written.
    const before = (await services.audit.list({ action: 'numbers.add', limit: 200 })).length;
    assert.equal((await runOperatorCommand(services, 'numbers:add', ['--provider', '999999', '--country', '16', '+447700900509'])).error?.code, 'not_found');
    assert.equal((await runOperatorCommand(services, 'numbers:add', ['--provider', String(provider.provider_id), '--country', '999', '+447700900509'])).error?.code, 'not_found');
    assert.equal((await runOperatorCommand(services, 'numbers:add', ['--provider', String(provider.provider_id), '--country', '16', 'not-a-number'])).error?.code, 'invalid_request');
    assert.equal((await services.audit.list({ action: 'numbers.add', limit: 200 })).length, before);

    // The failures rule takes a number off sale: one activation that ended without SMS.
    const api = server.api((await server.createCompany('10')).apiKey);
    const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 16, operator });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    server.clock.advance(1201);
    await server.jobs.sweeper.runOnce();
    const [first] = (await services.supplyConsole.listNumbers({ providerId: provider.provider_id }, { limit: 10, offset: 0 })).numbers
      .map((n) => n.number)
      .filter((n) => n.e164 === bought.body.data.activation.number);
    assert.ok(first);
    assert.equal(first.enabled, false);
    const enabled = await cli('numbers:enable', [first.e164]);
    assert.deepEqual(enabled.enabled, [first.e164]);
    const enable = await auditOf('number.enable', 'number', first.id);
    assert.deepEqual(enable.before, { e164: first.e164, enabled: false, consecutive_failures: 1 });
    assert.deepEqual(enable.after, { e164: first.e164, enabled: true, consecutive_failures: 0 });
    const after = await services.supplyConsole.listNumbers({ providerId: provider.provider_id, state: 'disabled' }, { limit: 10, offset: 0 });
    assert.equal(after.total, 0, 'back on sale');

    assert.equal((await runOperatorCommand(services, 'numbers:enable', ['+447700900599'])).error?.code, 'not_found');
  });
});
