import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asc, eq, sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db/database.ts';
import { emailOutbox } from '../../src/modules/email/email.tables.ts';
import { pendingSignUps } from '../../src/modules/web-sessions/web-sessions.tables.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { freshEmail, outboxReader, signUp, signUpToken, webClient } from '../web/web-client.ts';

/**
 * Sign-up must not tell who our customers are: the answer (status, body, cookies, about the
 * time) is the same for a new email and for one that has an account. The account is created from
 * an emailed link; an existing account is emailed a note with sign-in and reset links instead.
 */
describe('sign-up answers the same whether or not the email has an account', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { NOVA_NEW_ACCOUNTS_PER_IP: '1000' } });
  });
  after(async () => {
    await server.close();
  });

  const emailsTo = (address: string) => server.database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, address)).orderBy(asc(emailOutbox.id));
  const countAccounts = async () => rowsOf<{ n: number }>(await server.database.db.execute(sql`select count(*)::int as n from accounts`))[0].n;

  async function requestSignUp(email: string, password = 'a new password 1') {
    const client = webClient(server.url);
    await client.start();
    const started = performance.now();
    const answer = await client.post('/signup', { email, password, company_name: 'Probe Ltd' });
    return { client, answer, ms: performance.now() - started };
  }

  /** What a caller can see of an answer: status, body and the cookies it sets. */
  const visible = (answer: { status: number; body: unknown; headers: Headers }) => ({
    status: answer.status,
    body: answer.body,
    cookies: answer.headers.getSetCookie().map((line) => line.split('=')[0]).sort(),
  });

  it('gives a taken email and a new one the identical answer, and signs neither in', async () => {
    const { email: taken } = await signUp(server);
    const accountsBefore = await countAccounts();
    const fresh = freshEmail('newcomer');
    const forTaken = await requestSignUp(taken);
    const forFresh = await requestSignUp(fresh);
    assert.deepEqual(visible(forTaken.answer), visible(forFresh.answer));
    assert.deepEqual(forFresh.answer.body, { ok: true, data: { email_sent: true } });
    assert.ok(!forFresh.answer.headers.getSetCookie().some((line) => line.startsWith('nova_session=')), 'a sign-up sets no session');
    for (const { client } of [forTaken, forFresh]) assert.equal((await client.get('/session')).body.data.account, null);
    assert.equal(await countAccounts(), accountsBefore, 'no account exists before its link is opened');
  });

  it('emails the existing account a note with sign-in and reset links; its password stays as it was', async () => {
    const { email, password } = await signUp(server);
    const before = (await emailsTo(email)).length;
    assert.equal((await requestSignUp(email, 'an attacker password')).answer.status, 200);
    const mails = await emailsTo(email);
    assert.equal(mails.length, before + 1);
    const note = mails.at(-1)!;
    assert.equal(note.subject, 'Someone tried to sign up to Nova SMS with your email');
    assert.match(note.body, new RegExp(`${server.url}/signin\\b`));
    assert.match(note.body, new RegExp(`${server.url}/forgot-password\\b`));
    assert.doesNotMatch(note.body, /token=/, 'no link in it creates or changes anything');
    const visitor = webClient(server.url);
    await visitor.start();
    assert.equal((await visitor.post('/signin', { email, password: 'an attacker password' })).status, 401);
    assert.equal((await visitor.post('/signin', { email, password })).status, 200);
  });

  it('creates the account from the emailed link, once, and signs in there with the password of the sign-up', async () => {
    const email = freshEmail('linked');
    const { client } = await requestSignUp(email, 'my chosen password');
    const [mail] = await emailsTo(email);
    assert.equal(mail.subject, 'Confirm your Nova SMS account');
    const token = signUpToken(mail.body);
    assert.match(mail.body, new RegExp(`${server.url}/confirm-signup\\?token=${token}`));

    // Opened in another browser (a phone's mail app): the link alone is the proof.
    const elsewhere = webClient(server.url);
    await elsewhere.start();
    const confirmed = await elsewhere.post('/signup/confirm', { token });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.deepEqual([confirmed.body.data.account.email, confirmed.body.data.account.role, confirmed.body.data.account.company_name], [email, 'owner', 'Probe Ltd']);
    assert.ok(confirmed.headers.getSetCookie().some((line) => line.startsWith('nova_session=')));
    const key = (await elsewhere.get('/api-key')).body.data.api_key;
    assert.equal((await server.api(key).get('/api/v1/balance')).status, 200);
    assert.equal((await client.get('/session')).body.data.account, null, 'the browser that signed up is not signed in by it');

    const again = await elsewhere.post('/signup/confirm', { token });
    assert.deepEqual([again.status, again.body.error.message], [400, 'This confirmation link is invalid, used or expired; sign up again']);
    assert.equal((await client.post('/signin', { email, password: 'my chosen password' })).status, 200);
  });

  it('two sign-ups of one email before either link is opened make one account; the other link is spent with it', async () => {
    const email = freshEmail('twice');
    await requestSignUp(email, 'first password 1');
    await requestSignUp(email, 'second password 2');
    const [first, second] = (await emailsTo(email)).map((mail) => signUpToken(mail.body));
    const visitor = webClient(server.url);
    await visitor.start();
    assert.equal((await visitor.post('/signup/confirm', { token: second })).status, 200);
    assert.equal((await visitor.post('/signup/confirm', { token: first })).status, 400);
    const other = webClient(server.url);
    await other.start();
    assert.equal((await other.post('/signin', { email, password: 'second password 2' })).status, 200);
  });

  it('a link expires after 24 hours, and the retention job deletes expired sign-ups', async () => {
    const email = freshEmail('late');
    await requestSignUp(email);
    const token = signUpToken(await outboxReader(server.database)(email));
    server.clock.advance(24 * 3600 + 1);
    const visitor = webClient(server.url);
    await visitor.start();
    assert.equal((await visitor.post('/signup/confirm', { token })).status, 400);
    await server.jobs.retentionPurge.runOnce();
    assert.deepEqual(await server.database.db.select().from(pendingSignUps).where(eq(pendingSignUps.email, email)), []);
  });

  it('limits sign-up emails to one address to 5 an hour, counted the same for a taken and a new email', async () => {
    const { email: taken } = await signUp(server);
    const fresh = freshEmail('flooded');
    // The taken email's own sign-up was the first of its 5.
    for (const [email, left] of [[taken, 4], [fresh, 5]] as const) {
      for (let i = 0; i < left; i++) assert.equal((await requestSignUp(email)).answer.status, 200, `${email} #${i + 1}`);
    }
    const overTaken = (await requestSignUp(taken)).answer;
    const overFresh = (await requestSignUp(fresh)).answer;
    assert.equal(overTaken.status, 429);
    assert.deepEqual(visible(overTaken), visible(overFresh));
  });

  it('takes about the same time for a taken and a new email (the password is hashed either way)', async () => {
    const { email: taken } = await signUp(server);
    const times = { taken: [] as number[], fresh: [] as number[] };
    // Alternating, so a change of load on the machine hits both alike; a fresh address each time
    // keeps clear of the per-email limit, the taken ones are 4 accounts.
    const takenEmails = [taken, ...(await Promise.all([1, 2, 3].map(async () => (await signUp(server)).email)))];
    for (let i = 0; i < 12; i++) {
      times.taken.push((await requestSignUp(takenEmails[i % 4])).ms);
      times.fresh.push((await requestSignUp(freshEmail('timing'))).ms);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const [takenMs, freshMs] = [median(times.taken), median(times.fresh)];
    const ratio = Math.max(takenMs, freshMs) / Math.min(takenMs, freshMs);
    assert.ok(ratio < 2, `median ${takenMs.toFixed(1)} ms for a taken email, ${freshMs.toFixed(1)} ms for a new one`);
  });
});
