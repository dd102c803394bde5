import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { freshEmail, signUp, webClient, type WebClient } from '../web/web-client.ts';

const noLongerValid = 'This invitation is no longer valid; ask an owner for a new one';

describe('security: invitations', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  async function invite(owner: WebClient, role: 'owner' | 'member') {
    const email = freshEmail('invitee');
    const invited = await owner.post('/team/invites', { email, role });
    assert.equal(invited.status, 200, JSON.stringify(invited.body));
    return { email, token: new URL(invited.body.data.invite_url).searchParams.get('token')! };
  }

  async function accept(token: string) {
    const browser = webClient(server.url);
    await browser.start();
    return { browser, response: await browser.post('/invites/accept', { token, password: 'invitee password 1' }) };
  }

  /** Asserts the link is refused with the clear "no longer valid" error, and that nobody joined through it. */
  async function assertNoLongerValid(owner: WebClient, token: string, email: string) {
    const visitor = webClient(server.url);
    await visitor.start();
    const info = await visitor.get(`/invites/${token}`);
    assert.equal(info.status, 409, JSON.stringify(info.body));
    assert.deepEqual(info.body, { ok: false, error: { code: 'invalid_state', message: noLongerValid } });
    const { response } = await accept(token);
    assert.equal(response.status, 409, JSON.stringify(response.body));
    assert.deepEqual(response.body, { ok: false, error: { code: 'invalid_state', message: noLongerValid } });
    const team = await owner.get('/team');
    assert.ok(!team.body.data.members.some((m: { email: string }) => m.email === email), 'the invitee did not join');
    assert.ok(!team.body.data.invites.some((i: { email: string }) => i.email === email), 'the invite is no longer listed as pending');
    const signIn = await visitor.post('/signin', { email, password: 'invitee password 1' });
    assert.equal(signIn.status, 401, 'no account was created');
  }

  it('removing an owner voids the invitations they sent: the invitee does not become an owner', async () => {
    const { client: founder } = await signUp(server);
    const second = await invite(founder, 'owner');
    const { browser: secondOwner, response } = await accept(second.token);
    assert.equal(response.status, 200);
    const secondId = response.body.data.account.id;
    const third = await invite(secondOwner, 'owner');
    assert.ok((await founder.get('/team')).body.data.invites.some((i: { email: string }) => i.email === third.email));

    assert.equal((await founder.post(`/team/members/${secondId}/remove`)).status, 200);
    await assertNoLongerValid(founder, third.token, third.email);
  });

  it('an invitation works only while its sender is still an owner of the company', async () => {
    const { client: founder } = await signUp(server);
    const second = await invite(founder, 'owner');
    const { browser: secondOwner, response } = await accept(second.token);
    const secondId = response.body.data.account.id;
    const third = await invite(secondOwner, 'owner');

    // Demoted, not removed: the invite stays in the table but no longer confers anything.
    assert.equal((await founder.post(`/team/members/${secondId}/role`, { role: 'member' })).status, 200);
    const visitor = webClient(server.url);
    await visitor.start();
    const info = await visitor.get(`/invites/${third.token}`);
    assert.equal(info.status, 409);
    assert.equal(info.body.error.message, noLongerValid);
    const refused = await accept(third.token);
    assert.equal(refused.response.status, 409);
    assert.equal(refused.response.body.error.message, noLongerValid);
    assert.ok(!(await founder.get('/team')).body.data.members.some((m: { email: string }) => m.email === third.email));
  });

  it('an owner revokes a pending invitation; its link then answers the same clear error', async () => {
    const { client: owner } = await signUp(server);
    const kept = await invite(owner, 'member');
    const revoked = await invite(owner, 'owner');
    const listed = (await owner.get('/team')).body.data.invites as { id: number; email: string }[];
    assert.deepEqual(listed.map((i) => i.email).sort(), [kept.email, revoked.email].sort());
    const id = listed.find((i) => i.email === revoked.email)!.id;

    const answer = await owner.post(`/team/invites/${id}/revoke`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.data, { id, revoked: true });
    assert.deepEqual(((await owner.get('/team')).body.data.invites as { email: string }[]).map((i) => i.email), [kept.email]);
    await assertNoLongerValid(owner, revoked.token, revoked.email);

    // Revoking twice, or an invite that is not pending, says so.
    const again = await owner.post(`/team/invites/${id}/revoke`);
    assert.equal(again.status, 404);
    assert.equal(again.body.error.code, 'not_found');
    // The other invitation still works.
    assert.equal((await accept(kept.token)).response.status, 200);
    const keptId = listed.find((i) => i.email === kept.email)!.id;
    assert.equal((await owner.post(`/team/invites/${keptId}/revoke`)).status, 404, 'an accepted invitation is not pending');
  });

  it('only owners of the same company revoke an invitation, and a bad id is a clear 400', async () => {
    const { client: owner } = await signUp(server);
    const pending = await invite(owner, 'member');
    const id = ((await owner.get('/team')).body.data.invites as { id: number }[])[0].id;

    const { client: stranger } = await signUp(server);
    const foreign = await stranger.post(`/team/invites/${id}/revoke`);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, 'not_found');

    const member = await invite(owner, 'member');
    const { browser: memberBrowser } = await accept(member.token);
    assert.equal((await memberBrowser.post(`/team/invites/${id}/revoke`)).status, 403);

    const anonymous = webClient(server.url);
    await anonymous.start();
    assert.equal((await anonymous.post(`/team/invites/${id}/revoke`)).status, 401);

    const bad = await owner.post('/team/invites/abc/revoke');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.ok, false);
    assert.equal((await owner.post('/team/invites/999999999/revoke')).status, 404);

    // None of the refused attempts revoked it.
    const visitor = webClient(server.url);
    await visitor.start();
    assert.equal((await visitor.get(`/invites/${pending.token}`)).status, 200);
  });
});
