import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { desc, eq } from 'drizzle-orm';
import { emailOutbox } from '../../src/modules/email/email.tables.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { freshEmail, signUp, signUpToken, webClient } from './web-client.ts';

describe('website accounts', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { NOVA_TRUST_PROXY: '1' } });
  });
  after(async () => {
    await server.close();
  });

  async function latestEmailTo(address: string) {
    const rows = await server.database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, address)).orderBy(desc(emailOutbox.id));
    return rows[0];
  }

  it('a visitor signs up, gets a session as the owner of a new company and an API key that works on API v1', async () => {
    const { client, email } = await signUp(server, { companyName: 'Rocket Apps' });
    const cookie = (await client.get('/session')).headers;
    assert.ok(cookie);
    const session = await client.get('/session');
    assert.equal(session.status, 200);
    assert.equal(session.body.data.account.email, email);
    assert.equal(session.body.data.account.role, 'owner');
    assert.equal(session.body.data.account.company_name, 'Rocket Apps');

    const key = await client.get('/api-key');
    assert.equal(key.status, 200);
    assert.match(key.body.data.api_key, /^nova_/);
    assert.deepEqual(key.body.data.rate_limit, { requests_per_second: 1000, burst: 2000 });
    const balance = await server.api(key.body.data.api_key).get('/api/v1/balance');
    assert.equal(balance.status, 200);
    assert.deepEqual(balance.body.data, { balance: 0, currency: 'USD' });
  });

  it('the session cookie is httpOnly and SameSite=Lax, and Secure only when the request came over HTTPS', async () => {
    // The session starts when the emailed sign-up link is opened.
    async function confirmedSignUp(headers: Record<string, string> = {}) {
      const client = webClient(server.url);
      await client.start();
      const email = freshEmail();
      assert.equal((await client.post('/signup', { email, password: 'long enough pw' }, headers)).status, 200);
      return client.post('/signup/confirm', { token: signUpToken((await latestEmailTo(email)).body) }, headers);
    }
    const plain = await confirmedSignUp();
    const line = plain.headers.getSetCookie().find((c) => c.startsWith('nova_session='))!;
    assert.match(line, /HttpOnly/i);
    assert.match(line, /SameSite=Lax/i);
    assert.doesNotMatch(line, /Secure/i);

    const secure = await confirmedSignUp({ 'x-forwarded-proto': 'https' });
    assert.match(secure.headers.getSetCookie().find((c) => c.startsWith('nova_session='))!, /Secure/i);
  });

  it('a state-changing request without the CSRF header (or with a wrong one) is refused with 403', async () => {
    const client = webClient(server.url);
    await client.start();
    const missing = await client.post('/signup', { email: freshEmail(), password: 'long enough pw' }, { 'x-csrf-token': '' });
    assert.equal(missing.status, 403);
    assert.equal(missing.body.error.code, 'forbidden');
    const wrong = await client.post('/signin', { email: freshEmail(), password: 'whatever1' }, { 'x-csrf-token': 'forged' });
    assert.equal(wrong.status, 403);
    const noCookie = webClient(server.url);
    const withoutCookie = await noCookie.post('/signout', undefined, { 'x-csrf-token': 'abc' });
    assert.equal(withoutCookie.status, 403);
  });

  it('sign-in with a wrong password and with an unknown email get the identical answer', async () => {
    const { email, password } = await signUp(server);
    const client = webClient(server.url);
    await client.start();
    const wrongPassword = await client.post('/signin', { email, password: 'not the password' });
    const unknownEmail = await client.post('/signin', { email: freshEmail('nobody'), password: 'not the password' });
    assert.equal(wrongPassword.status, 401);
    assert.deepEqual(wrongPassword.body, unknownEmail.body);
    assert.equal(unknownEmail.status, 401);
    assert.equal(wrongPassword.body.error.message, 'Wrong email or password');

    const right = await client.post('/signin', { email: email.toUpperCase(), password });
    assert.equal(right.status, 200);
    assert.equal(right.body.data.account.email, email);
    assert.equal((await client.get('/balance')).status, 200);
  });

  it('sign-in attempts for one email from one address are rate limited', async () => {
    const client = webClient(server.url);
    await client.start();
    const email = freshEmail('target');
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.post('/signin', { email, password: 'guess guess' })));
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(limited.length >= 3, `expected some 429s, got ${answers.map((a) => a.status).join(',')}`);
    assert.equal(limited[0].body.error.code, 'rate_limited');
    assert.ok(Number(limited[0].headers.get('retry-after')) >= 1);
  });

  it('signing out ends the session', async () => {
    const { client } = await signUp(server);
    assert.equal((await client.get('/balance')).status, 200);
    const out = await client.post('/signout');
    assert.deepEqual(out.body.data, { signed_out: true });
    const after = await client.get('/balance');
    assert.equal(after.status, 401);
    assert.equal((await client.get('/session')).body.data.account, null);
  });

  it('a password reset emails a single-use link through the outbox, and the new password signs in', async () => {
    const { email } = await signUp(server);
    const visitor = webClient(server.url);
    await visitor.start();
    // A forged host must not end up in the emailed link.
    const sent = await visitor.post('/password-reset/request', { email }, { 'x-forwarded-host': 'evil.example' });
    assert.deepEqual(sent.body, { ok: true, data: { sent: true } });
    const unknown = await visitor.post('/password-reset/request', { email: freshEmail('ghost') });
    assert.deepEqual(unknown.body, sent.body);

    const mail = await latestEmailTo(email);
    assert.ok(mail, 'an email is queued');
    const link = /(http\S+\/reset-password\?token=(\S+))/.exec(mail.body);
    assert.ok(link, mail.body);
    assert.ok(link[1].startsWith(`${server.url}/reset-password?token=`), link[1]);
    const token = link[2];

    const tooShort = await visitor.post('/password-reset/confirm', { token, password: 'short' });
    assert.equal(tooShort.status, 400);
    const confirmed = await visitor.post('/password-reset/confirm', { token, password: 'a brand new password' });
    assert.equal(confirmed.status, 200);
    assert.equal(confirmed.body.data.account.email, email);
    assert.equal((await visitor.get('/balance')).status, 200);

    const again = await visitor.post('/password-reset/confirm', { token, password: 'another new password' });
    assert.equal(again.status, 400);
    const other = webClient(server.url);
    await other.start();
    assert.equal((await other.post('/signin', { email, password: 'a brand new password' })).status, 200);

    // Without NOVA_SMTP_URL nothing sends it (nor logs it): it stays in the outbox for `email:outbox`.
    await server.jobs.email.runOnce();
    assert.equal((await latestEmailTo(email)).sentAt, null);
  });

  it('a reset link is refused after an hour', async () => {
    const { email } = await signUp(server);
    const visitor = webClient(server.url);
    await visitor.start();
    await visitor.post('/password-reset/request', { email });
    const token = /token=(\S+)/.exec((await latestEmailTo(email)).body)![1];
    server.clock.advance(3601);
    const late = await visitor.post('/password-reset/confirm', { token, password: 'a brand new password' });
    assert.equal(late.status, 400);
  });

  it('regenerating the API key kills the old key at once and shows the new one', async () => {
    const { client } = await signUp(server);
    const oldKey = (await client.get('/api-key')).body.data.api_key;
    const regenerated = await client.post('/api-key/regenerate');
    assert.equal(regenerated.status, 200);
    const newKey = regenerated.body.data.api_key;
    assert.notEqual(newKey, oldKey);
    assert.equal((await client.get('/api-key')).body.data.api_key, newKey);
    assert.equal((await server.api(oldKey).get('/api/v1/balance')).status, 401);
    assert.equal((await server.api(newKey).get('/api/v1/balance')).status, 200);
  });

  it('signed-in pages answer 401 without a session, and sign-up refuses a short password', async () => {
    const client = webClient(server.url);
    await client.start();
    assert.equal((await client.get('/balance')).status, 401);
    assert.equal((await client.get('/api-key')).status, 401);
    const short = await client.post('/signup', { email: freshEmail(), password: 'short' });
    assert.equal(short.status, 400);
    assert.equal(short.body.error.code, 'invalid_request');
  });

  it('the demo payment provider credits a top-up at once, labelled as a demo, and it shows in the transactions', async () => {
    const { client } = await signUp(server);
    assert.deepEqual((await client.get('/topup')).body.data, { provider: 'demo', min_amount: 1, max_amount: 1000 });
    const topped = await client.post('/topup', { amount: 20 });
    assert.equal(topped.status, 200);
    assert.deepEqual(topped.body.data, { credited: true, balance: 20, label: 'Demo payment' });
    assert.equal((await client.get('/balance')).body.data.balance, 20);
    const transactions = (await client.get('/transactions?limit=10')).body.data;
    assert.equal(transactions.total, 1);
    assert.equal(transactions.transactions[0].kind, 'topup');
    assert.equal(transactions.transactions[0].amount, 20);
    assert.equal(transactions.transactions[0].balance_after, 20);
    assert.match(transactions.transactions[0].reason, /Demo payment/);
    assert.match(transactions.transactions[0].created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal((await client.post('/topup', { amount: 0.25 })).status, 400);
  });

  it('the website API stays out of the public OpenAPI document', async () => {
    const document = await server.api().get('/api/v1/openapi.json');
    assert.equal(document.status, 200);
    const paths = Object.keys(document.body.paths ?? document.body.data?.paths ?? {});
    assert.ok(paths.length > 0);
    assert.deepEqual(paths.filter((p) => p.includes('/api/web') || p.startsWith('/web')), []);
  });

  it('the landing page price table lists every price with names and stock, without signing in', async () => {
    await server.createProvider({ countryId: 16, count: 2 });
    const prices = await webClient(server.url).get('/prices');
    assert.equal(prices.status, 200);
    const uk = prices.body.data.prices.find((p: { service: string; country: number }) => p.service === 'tg' && p.country === 16);
    assert.deepEqual(uk, { service: 'tg', service_name: 'Telegram', country: 16, country_name: 'United Kingdom', country_iso: 'GB', price: 0.6, available: 2, in_stock: true });
    const wa = prices.body.data.prices.find((p: { service: string }) => p.service === 'wa');
    assert.equal(wa.in_stock, false);
  });
});
