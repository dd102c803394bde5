import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asc, eq } from 'drizzle-orm';
import { emailOutbox } from '../../src/modules/email/email.tables.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { signUp, webClient, type WebClient } from '../web/web-client.ts';

const invalidLink = 'This reset link is invalid, used or expired; ask for a new one';

describe('security: password reset links', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  async function browser(): Promise<WebClient> {
    const client = webClient(server.url);
    await client.start();
    return client;
  }

  /** Asks for a reset link for `email` (from a fresh browser) and returns its token, read from the outbox. */
  async function resetLink(email: string): Promise<string> {
    const before = await server.database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, email));
    const requested = await (await browser()).post('/password-reset/request', { email });
    assert.equal(requested.status, 200, JSON.stringify(requested.body));
    const mails = await server.database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, email)).orderBy(asc(emailOutbox.id));
    assert.equal(mails.length, before.length + 1, 'one reset email is queued');
    const token = /reset-password\?token=([A-Za-z0-9_-]+)/.exec(mails.at(-1)!.body)?.[1];
    assert.ok(token, 'the email carries a reset link');
    return token;
  }

  async function confirm(token: string, password: string) {
    const client = await browser();
    return { client, response: await client.post('/password-reset/confirm', { token, password }) };
  }

  async function signIn(email: string, password: string) {
    const client = await browser();
    return { client, response: await client.post('/signin', { email, password }) };
  }

  it('using one reset link voids every other outstanding link of the account', async () => {
    const { email } = await signUp(server);
    const { email: otherEmail } = await signUp(server);
    const first = await resetLink(email);
    const second = await resetLink(email);
    const otherAccounts = await resetLink(otherEmail);

    const used = await confirm(first, 'first new password');
    assert.equal(used.response.status, 200, JSON.stringify(used.response.body));

    const replay = await confirm(second, 'attacker password');
    assert.equal(replay.response.status, 400);
    assert.deepEqual(replay.response.body, { ok: false, error: { code: 'invalid_request', message: invalidLink } });
    assert.equal((await signIn(email, 'attacker password')).response.status, 401);
    assert.equal((await signIn(email, 'first new password')).response.status, 200);

    // Another account's link is not touched.
    assert.equal((await confirm(otherAccounts, 'other new password')).response.status, 200);
  });

  it('two links used at the same moment reset the password once', async () => {
    const { email } = await signUp(server);
    const first = await resetLink(email);
    const second = await resetLink(email);
    const results = await Promise.all([confirm(first, 'racing password 1'), confirm(second, 'racing password 2')]);
    assert.deepEqual(results.map((r) => r.response.status).sort(), [200, 400]);
    const winner = results[0].response.status === 200 ? 'racing password 1' : 'racing password 2';
    const loser = winner === 'racing password 1' ? 'racing password 2' : 'racing password 1';
    assert.equal((await signIn(email, winner)).response.status, 200);
    assert.equal((await signIn(email, loser)).response.status, 401);
  });

  it('a reset signs out the account’s other sessions and keeps the one it signs in', async () => {
    const { client: original, email } = await signUp(server);
    const { client: laptop } = await signIn(email, 'correct horse battery');
    assert.equal((await laptop.get('/session')).body.data.account.email, email);
    const token = await resetLink(email);

    const { client: resetter, response } = await confirm(token, 'brand new password');
    assert.equal(response.status, 200);
    assert.equal((await resetter.get('/session')).body.data.account.email, email, 'the browser that reset stays signed in');
    assert.equal((await resetter.get('/balance')).status, 200);
    for (const other of [original, laptop]) {
      assert.equal((await other.get('/session')).body.data.account, null, 'every other browser is signed out');
      assert.equal((await other.get('/balance')).status, 401);
    }
  });

  it('signing in voids outstanding reset links (the account holder knows the password)', async () => {
    const { email, password } = await signUp(server);
    const pending = await resetLink(email);
    // A wrong password proves nothing and keeps the link.
    assert.equal((await signIn(email, 'wrong password 123')).response.status, 401);
    const kept = await resetLink(email);
    assert.equal((await signIn(email, password)).response.status, 200);
    for (const token of [pending, kept]) {
      const attempt = await confirm(token, 'taken over password');
      assert.equal(attempt.response.status, 400);
      assert.equal(attempt.response.body.error.message, invalidLink);
    }
    assert.equal((await signIn(email, password)).response.status, 200);
  });

  it('a sign-in with the new password after a reset leaves no link usable', async () => {
    const { email } = await signUp(server);
    const first = await resetLink(email);
    assert.equal((await confirm(first, 'after reset password')).response.status, 200);
    const later = await resetLink(email);
    assert.equal((await signIn(email, 'after reset password')).response.status, 200);
    assert.equal((await confirm(later, 'someone else password')).response.status, 400);
    assert.equal((await confirm(first, 'someone else password')).response.status, 400, 'the used link stays used');
  });
});
