import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { desc, eq } from 'drizzle-orm';
import { emailOutbox } from '../../src/modules/email/email.tables.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { freshEmail, signUp, webClient, type WebClient } from './web-client.ts';

describe('website team', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  /** Invites `email` as `role` from the owner's client and accepts in a fresh browser. */
  async function inviteAndAccept(owner: WebClient, role: 'owner' | 'member') {
    const email = freshEmail('invitee');
    const invited = await owner.post('/team/invites', { email, role });
    assert.equal(invited.status, 200, JSON.stringify(invited.body));
    const token = new URL(invited.body.data.invite_url).searchParams.get('token')!;
    const member = webClient(server.url);
    await member.start();
    const accepted = await member.post('/invites/accept', { token, password: 'member password 1' });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    return { member, email, account: accepted.body.data.account, token, inviteUrl: invited.body.data.invite_url as string };
  }

  it('an owner invites by email; the invitee sees the invitation, sets a password, gets its own key and cannot see the owner’s activations', async () => {
    const { client: owner, account: ownerAccount } = await signUp(server, { companyName: 'Team Co' });
    await owner.post('/topup', { amount: 10 });
    const { numbers } = await server.createProvider({ countryId: 6, count: 2 });
    const bought = await owner.post('/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201);
    assert.ok(numbers.includes(bought.body.data.activation.number));

    const email = freshEmail('invitee');
    const invited = await owner.post('/team/invites', { email, role: 'member' });
    assert.equal(invited.status, 200);
    assert.match(invited.body.data.invite_url, /\/invite\?token=/);
    const token = new URL(invited.body.data.invite_url).searchParams.get('token')!;
    const mail = (await server.database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, email)).orderBy(desc(emailOutbox.id)))[0];
    assert.ok(mail.body.includes(invited.body.data.invite_url), 'the invitation is emailed');
    const pending = await owner.get('/team');
    assert.deepEqual(pending.body.data.invites.map((i: { email: string; role: string }) => [i.email, i.role]), [[email, 'member']]);

    const member = webClient(server.url);
    await member.start();
    const info = await member.get(`/invites/${token}`);
    assert.deepEqual(info.body.data, { email, company_name: 'Team Co', role: 'member' });
    const accepted = await member.post('/invites/accept', { token, password: 'member password 1' });
    assert.equal(accepted.status, 200);
    assert.equal(accepted.body.data.account.role, 'member');
    assert.equal(accepted.body.data.account.company_id, ownerAccount.company_id);
    assert.equal((await member.get(`/invites/${token}`)).status, 404, 'an invitation works once');

    const memberKey = (await member.get('/api-key')).body.data.api_key;
    const ownerKey = (await owner.get('/api-key')).body.data.api_key;
    assert.match(memberKey, /^nova_/);
    assert.notEqual(memberKey, ownerKey);
    const memberList = await member.get('/activations');
    assert.equal(memberList.body.data.total, 0);
    assert.equal((await member.get(`/activations/${bought.body.data.activation.id}`)).status, 404);
    assert.equal((await server.api(memberKey).get(`/api/v1/activations/${bought.body.data.activation.id}`)).status, 404);
    assert.equal((await owner.get('/activations')).body.data.total, 1);
    // Members share the company balance but not the team page.
    assert.equal((await member.get('/balance')).body.data.balance, 9.5);
    assert.equal((await member.get('/team')).status, 403);
    assert.equal((await member.post('/team/invites', { email: freshEmail(), role: 'member' })).status, 403);

    const team = await owner.get('/team');
    const rows = team.body.data.members.map((m: { email: string; role: string; spent: number; activations: number }) => [m.email, m.role, m.spent, m.activations]);
    assert.deepEqual(rows.slice(1), [[email, 'member', 0, 0]]);
    assert.deepEqual(rows[0].slice(1), ['owner', 0.5, 1]);
    assert.deepEqual(team.body.data.invites, []);
  });

  it('an owner changes a member’s role, and a company always keeps one owner', async () => {
    const { client: owner, account: ownerAccount } = await signUp(server);
    const { member, account } = await inviteAndAccept(owner, 'member');
    const promoted = await owner.post(`/team/members/${account.id}/role`, { role: 'owner' });
    assert.equal(promoted.status, 200);
    assert.equal((await member.get('/session')).body.data.account.role, 'owner');
    assert.equal((await member.get('/team')).status, 200);

    const demoted = await member.post(`/team/members/${account.id}/role`, { role: 'member' });
    assert.equal(demoted.status, 200);
    assert.equal((await member.get('/team')).status, 403);
    const lastOwner = await owner.post(`/team/members/${ownerAccount.id}/role`, { role: 'member' });
    assert.equal(lastOwner.status, 409);
    assert.equal((await owner.get('/session')).body.data.account.role, 'owner');
    const badRole = await owner.post(`/team/members/${account.id}/role`, { role: 'admin' });
    assert.equal(badRole.status, 400);
  });

  it('removing a member kills their API key and their session at once', async () => {
    const { client: owner, account: ownerAccount } = await signUp(server);
    const { member, account } = await inviteAndAccept(owner, 'member');
    const memberKey = (await member.get('/api-key')).body.data.api_key;
    assert.equal((await server.api(memberKey).get('/api/v1/balance')).status, 200);

    const removed = await owner.post(`/team/members/${account.id}/remove`);
    assert.equal(removed.status, 200);
    assert.equal((await server.api(memberKey).get('/api/v1/balance')).status, 401);
    assert.equal((await member.get('/balance')).status, 401);
    assert.equal((await member.get('/session')).body.data.account, null);
    const team = await owner.get('/team');
    assert.deepEqual(team.body.data.members.map((m: { id: number }) => m.id), [ownerAccount.id]);
    assert.equal((await owner.post(`/team/members/${ownerAccount.id}/remove`)).status, 409, 'an owner cannot remove themself');
  });

  it('an owner cannot manage members of another company', async () => {
    const { client: owner } = await signUp(server);
    const other = await server.createCompany('0');
    assert.equal((await owner.post(`/team/members/${other.accountId}/remove`)).status, 404);
    assert.equal((await owner.post(`/team/members/${other.accountId}/role`, { role: 'member' })).status, 404);
    assert.equal((await server.api(other.apiKey).get('/api/v1/balance')).status, 200);
  });
});
