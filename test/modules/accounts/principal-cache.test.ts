import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { runOperatorCommand } from '../../../src/cli/control-socket.ts';
import { type SignedInStaff, signInStaff } from '../../support/console-client.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { signUp } from '../../web/web-client.ts';

/**
 * API key → principal is answered from memory (issue 10): a key seen lately costs no database
 * read, and every change of what the key may do (rotation by any path, member removal, role
 * change, block, unblock) applies to the very next request, although the key was cached.
 * (Across two instances: test/production/key-revocation-instances.test.ts.)
 */
describe('API keys answered from memory', () => {
  let server: TestServer;
  let admin: SignedInStaff;
  before(async () => {
    server = await startTestServer();
    admin = await signInStaff(server, 'admin');
  });
  after(async () => {
    await server?.close();
  });

  const stats = () => server.services.accounts.principalCacheStats();
  const balanceStatus = async (apiKey: string) => (await server.api(apiKey).get('/api/v1/balance')).status;

  /** Uses the key until it is cached, and proves the last use was answered from memory. */
  async function warm(apiKey: string) {
    assert.equal(await balanceStatus(apiKey), 200);
    const hits = stats().hits;
    assert.equal(await balanceStatus(apiKey), 200);
    assert.equal(stats().hits, hits + 1, 'the second use of a key is answered from the cache');
  }

  /** A company signed up on the website: its owner's client (signed in) and key. */
  async function customer() {
    const owner = await signUp(server);
    const apiKey: string = (await owner.client.get('/api-key')).body.data.api_key;
    return { ...owner, apiKey, companyId: owner.account.company_id, accountId: owner.account.id };
  }

  it('answers a key from memory: an unannounced change in the database shows only after the safety-net age', async () => {
    const { accountId, apiKey } = await server.createCompany();
    const before = stats();
    for (let i = 0; i < 5; i++) assert.equal(await balanceStatus(apiKey), 200);
    const used = stats();
    assert.equal(used.misses - before.misses, 1, 'one database read for five requests');
    assert.equal(used.hits - before.hits, 4);

    // A revocation that bypasses the service (no announcement): the cached principal still answers,
    // which it could not if the cache were bypassed...
    await server.database.db.execute(sql`update api_keys set revoked_at = now() where account_id = ${accountId}`);
    assert.equal(await balanceStatus(apiKey), 200, 'served from memory');
    // ...until the entry's age passes the safety net (60 s), when the key is read again.
    server.clock.advance(61);
    assert.equal(await balanceStatus(apiKey), 401);
  });

  it('keeps no entry for an unknown key', async () => {
    const size = stats().size;
    for (let i = 0; i < 20; i++) assert.equal(await balanceStatus(`nova_${randomBytes(24).toString('base64url')}`), 401);
    assert.equal(stats().size, size);
  });

  it('refuses a cached key at once once it is rotated on the website, in the console or by the operator CLI', async () => {
    const acme = await customer();

    await warm(acme.apiKey);
    const regenerated = await acme.client.post('/api-key/regenerate');
    assert.equal(regenerated.status, 200);
    assert.equal(await balanceStatus(acme.apiKey), 401, 'website rotation');
    const websiteKey: string = regenerated.body.data.api_key;

    await warm(websiteKey);
    const rotated = await admin.client.post(`/companies/${acme.companyId}/members/${acme.accountId}/rotate-key`);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(await balanceStatus(websiteKey), 401, 'console rotation');
    const consoleKey: string = (await acme.client.get('/api-key')).body.data.api_key;

    await warm(consoleKey);
    const cli = await runOperatorCommand(server.services, 'key:rotate', ['--account', String(acme.accountId)]);
    assert.ok(cli.ok, JSON.stringify(cli.error));
    assert.equal(await balanceStatus(consoleKey), 401, 'CLI rotation');
    const cliKey: string = (await acme.client.get('/api-key')).body.data.api_key;
    assert.equal(await balanceStatus(cliKey), 200);
  });

  it("refuses a removed member's cached key at once", async () => {
    const acme = await customer();
    const member = await server.addMember(acme.companyId);
    await warm(member.apiKey);
    const removed = await acme.client.post(`/team/members/${member.accountId}/remove`);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.equal(await balanceStatus(member.apiKey), 401);
    assert.equal(await balanceStatus(acme.apiKey), 200, "the owner's key is untouched");
  });

  it("applies a role change to a cached key at once: a promoted member sees the owner's activation, a demoted one no longer", async () => {
    const acme = await customer();
    await server.services.billing.credit({ companyId: acme.companyId, amount: 10_000, kind: 'topup', reason: 'test credit' });
    await server.createProvider({ countryId: 6, count: 1 });
    const bought = await server.api(acme.apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const ownersActivation = `/api/v1/activations/${bought.body.data.activation.id}`;
    const member = await server.addMember(acme.companyId);
    await warm(member.apiKey);
    assert.equal((await server.api(member.apiKey).get(ownersActivation)).status, 404, "a member does not see the owner's activation");

    assert.equal((await acme.client.post(`/team/members/${member.accountId}/role`, { role: 'owner' })).status, 200);
    assert.equal((await server.api(member.apiKey).get(ownersActivation)).status, 200, 'promoted: sees it at once');
    assert.equal((await acme.client.post(`/team/members/${member.accountId}/role`, { role: 'member' })).status, 200);
    assert.equal((await server.api(member.apiKey).get(ownersActivation)).status, 404, 'demoted: no longer at once');
  });

  it('answers 403 account_blocked at once when the company of a cached key is blocked, and lets it in at once when unblocked', async () => {
    const acme = await customer();
    const member = await server.addMember(acme.companyId);
    await warm(acme.apiKey);
    await warm(member.apiKey);
    assert.equal((await admin.client.post(`/companies/${acme.companyId}/block`, { reason: 'Suspected card fraud' })).status, 200);
    for (const apiKey of [acme.apiKey, member.apiKey]) {
      const refused = await server.api(apiKey).get('/api/v1/balance');
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'account_blocked');
    }
    // The blocked answer is cached too (a blocked company's bot keeps calling): still exact on unblock.
    const hits = stats().hits;
    assert.equal((await server.api(acme.apiKey).get('/api/v1/balance')).status, 403);
    assert.equal(stats().hits, hits + 1);
    assert.equal((await admin.client.post(`/companies/${acme.companyId}/unblock`, { reason: 'Card owner confirmed' })).status, 200);
    assert.equal(await balanceStatus(acme.apiKey), 200);
    assert.equal(await balanceStatus(member.apiKey), 200);
  });
});
