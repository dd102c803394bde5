import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import { consoleClient } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';
import { freshEmail, outboxReader, signUp, signUpToken, webClient, type WebClient } from '../web/web-client.ts';

/** A POST with exactly these cookies and CSRF header, as a page that planted cookies would send it. */
async function postWith(baseUrl: string, pathname: string, cookies: Record<string, string>, csrfHeader: string) {
  const response = await fetch(`${baseUrl}${pathname}`, {
    method: 'POST',
    headers: {
      cookie: Object.entries(cookies)
        .map(([k, v]) => `${k}=${v}`)
        .join('; '),
      'x-csrf-token': csrfHeader,
    },
  });
  const body = (await response.json()) as { ok: boolean; error?: { code: string } };
  return { status: response.status, body };
}

/** Signs up on `client` and opens the emailed link: the answer that starts the session. */
async function confirmedSignUp(server: TestServer, client: WebClient) {
  const email = freshEmail();
  assert.equal((await client.post('/signup', { email, password: 'long enough pw' })).status, 200);
  return client.post('/signup/confirm', { token: signUpToken(await outboxReader(server.database)(email)) });
}

const setCookieLine = (headers: Headers, name: string) => headers.getSetCookie().find((line) => line.startsWith(`${name}=`));
const maxAgeOf = (line: string) => Number(/Max-Age=(\d+)/i.exec(line)?.[1]);

describe('NOVA_COOKIE_SECURE: on by default outside demo mode, off in demo mode', () => {
  it('reads the setting and its defaults', () => {
    assert.equal(loadConfig({ NOVA_DEMO: '0' }).cookieSecure, true);
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://nova@db.internal:5432/nova' }).cookieSecure, true);
    assert.equal(loadConfig({ NOVA_DEMO: '1' }).cookieSecure, false);
    assert.equal(loadConfig({}).cookieSecure, false, 'the embedded database runs in demo mode by default');
    assert.equal(loadConfig({ NOVA_DEMO: '0', NOVA_COOKIE_SECURE: '0' }).cookieSecure, false);
    assert.equal(loadConfig({ NOVA_DEMO: '1', NOVA_COOKIE_SECURE: 'on' }).cookieSecure, true);
    assert.throws(() => loadConfig({ NOVA_COOKIE_SECURE: 'maybe' }), /NOVA_COOKIE_SECURE/);
  });
});

describe('cookies are Secure behind a TLS proxy even without NOVA_TRUST_PROXY', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { NOVA_COOKIE_SECURE: '1' } });
  });
  after(async () => {
    await server.close();
  });

  it('the website session and CSRF cookies get Secure on a plain-HTTP request', async () => {
    const client = webClient(server.url);
    const session = await client.start();
    assert.match(setCookieLine(session.headers, 'nova_csrf')!, /;\s*Secure/i);
    const signedUp = await confirmedSignUp(server, client);
    assert.equal(signedUp.status, 200);
    assert.match(setCookieLine(signedUp.headers, 'nova_session')!, /;\s*Secure/i);
    assert.match(setCookieLine(signedUp.headers, 'nova_csrf')!, /;\s*Secure/i);
  });

  it('the console session and CSRF cookies get Secure on a plain-HTTP request', async () => {
    const email = `${uniqueName('ops')}@nova.example`;
    const { password } = await server.services.staff.create(cliActor, { email, role: 'support' });
    const client = consoleClient(server.url);
    const session = await client.start();
    assert.match(setCookieLine(session.headers, 'nova_console_csrf')!, /;\s*Secure/i);
    const signIn = await client.post('/signin', { email, password });
    assert.equal(signIn.status, 200);
    assert.match(setCookieLine(signIn.headers, 'nova_console')!, /;\s*Secure/i);
  });
});

describe('the website CSRF token is bound to the session and rotated at sign-in and sign-out', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('signing in gives a new CSRF token; the one from before sign-in no longer works', async () => {
    const { email, password } = await signUp(server);
    const client = webClient(server.url);
    await client.start();
    const before = client.csrf;
    assert.ok(before);
    const signIn = await client.post('/signin', { email, password });
    assert.equal(signIn.status, 200);
    const rotated = setCookieLine(signIn.headers, 'nova_csrf');
    assert.ok(rotated, 'sign-in sets a new nova_csrf cookie');
    assert.notEqual(client.csrf, before);
    // The session answer carries the same token as the cookie.
    assert.equal((await client.get('/session')).body.data.csrf_token, client.csrf);
    assert.equal((await client.post('/api-key/regenerate')).status, 200, 'the rotated token works');

    const stale = await postWith(server.url, '/api/web/api-key/regenerate', { nova_session: client.cookies.get('nova_session')!, nova_csrf: before }, before);
    assert.equal(stale.status, 403);
    assert.equal(stale.body.error?.code, 'forbidden');
  });

  it('a planted cookie-and-header pair does not pass for a signed-in session', async () => {
    const { client } = await signUp(server);
    const planted = await postWith(server.url, '/api/web/api-key/regenerate', { nova_session: client.cookies.get('nova_session')!, nova_csrf: 'planted' }, 'planted');
    assert.equal(planted.status, 403);
    assert.equal(planted.body.error?.code, 'forbidden');
  });

  it("another session's token does not pass", async () => {
    const alice = await signUp(server);
    const mallory = await signUp(server);
    assert.notEqual(alice.client.csrf, mallory.client.csrf);
    const crossed = await postWith(
      server.url,
      '/api/web/api-key/regenerate',
      { nova_session: alice.client.cookies.get('nova_session')!, nova_csrf: mallory.client.csrf },
      mallory.client.csrf,
    );
    assert.equal(crossed.status, 403);
  });

  it('the CSRF cookie lives no longer than the session, not a year', async () => {
    const client = webClient(server.url);
    const anonymous = await client.start();
    assert.ok(maxAgeOf(setCookieLine(anonymous.headers, 'nova_csrf')!) <= 30 * 24 * 3600);
    const signedUp = await confirmedSignUp(server, client);
    const session = setCookieLine(signedUp.headers, 'nova_session')!;
    const csrf = setCookieLine(signedUp.headers, 'nova_csrf')!;
    assert.equal(maxAgeOf(csrf), maxAgeOf(session));
  });

  it('signing out rotates the token again, and the visitor can sign in with the new one', async () => {
    const { client, email, password } = await signUp(server);
    const signedIn = client.csrf;
    const out = await client.post('/signout');
    assert.equal(out.status, 200);
    assert.ok(setCookieLine(out.headers, 'nova_csrf'), 'sign-out sets a new nova_csrf cookie');
    assert.notEqual(client.csrf, signedIn);
    assert.equal((await client.get('/session')).body.data.csrf_token, client.csrf);
    assert.equal((await client.post('/signin', { email, password })).status, 200);
  });

  it('a session cookie from before the token was bound gets a matching token from GET /session', async () => {
    const { client } = await signUp(server);
    // An old anonymous token left in the browser next to a valid session.
    client.cookies.set('nova_csrf', 'left-over-token');
    const session = await client.get('/session');
    assert.notEqual(client.csrf, 'left-over-token');
    assert.equal(session.body.data.csrf_token, client.csrf);
    assert.equal((await client.post('/api-key/regenerate')).status, 200);
  });
});

describe('the console CSRF token is bound to the staff session and rotated at sign-in', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  async function staffClient() {
    const email = `${uniqueName('ops')}@nova.example`;
    const { password } = await server.services.staff.create(cliActor, { email, role: 'support' });
    const client = consoleClient(server.url);
    await client.start();
    return { client, email, password };
  }

  it('sign-in rotates the token; the old one and a planted pair are refused; sign-out rotates again', async () => {
    const { client, email, password } = await staffClient();
    const before = client.csrf;
    const signIn = await client.post('/signin', { email, password });
    assert.equal(signIn.status, 200);
    assert.ok(setCookieLine(signIn.headers, 'nova_console_csrf'), 'sign-in sets a new nova_console_csrf cookie');
    assert.notEqual(client.csrf, before);
    assert.equal((await client.get('/session')).body.data.csrf_token, client.csrf);
    const session = client.cookies.get('nova_console')!;

    const stale = await postWith(server.url, '/api/console/signout', { nova_console: session, nova_console_csrf: before }, before);
    assert.equal(stale.status, 403);
    const planted = await postWith(server.url, '/api/console/signout', { nova_console: session, nova_console_csrf: 'planted' }, 'planted');
    assert.equal(planted.status, 403);
    assert.equal((await client.get('/staff')).status, 200, 'still signed in');

    const signedIn = client.csrf;
    assert.equal((await client.post('/signout')).status, 200);
    assert.notEqual(client.csrf, signedIn);
    assert.equal((await client.post('/signin', { email, password })).status, 200);
  });

  it('the console CSRF cookie lives no longer than a staff session', async () => {
    const { client, email, password } = await staffClient();
    const signIn = await client.post('/signin', { email, password });
    const csrf = setCookieLine(signIn.headers, 'nova_console_csrf')!;
    assert.equal(maxAgeOf(csrf), maxAgeOf(setCookieLine(signIn.headers, 'nova_console')!));
  });
});
