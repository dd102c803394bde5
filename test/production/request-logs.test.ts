import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { buildApp, createServices } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { signInStaff } from '../support/console-client.ts';
import { problemOf, secretMatcher } from '../support/log-scan.ts';
import { rawRequest } from '../support/raw-http.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';
import { freshEmail, signUp, webClient } from '../web/web-client.ts';

/**
 * Issue 9: JSON log lines with the request id on each line of a request, the same id in
 * `X-Request-Id`, and no credential anywhere in the log. The server logs at trace level to a
 * file; the flows that handle credentials run over real HTTP; then the file is read back.
 */

interface LogLine {
  level: number;
  msg?: string;
  reqId?: string;
  req?: { url: string };
  res?: { statusCode: number };
  [field: string]: unknown;
}

const readLog = (file: string): { text: string; lines: LogLine[] } => {
  const text = readFileSync(file, 'utf8');
  return { text, lines: text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as LogLine) };
};

/** The log once request `id` has its "request completed" line (written as its answer leaves, so a moment after the client may have it). */
async function logOnceCompleted(file: string, id: string | null) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const log = readLog(file);
    if (log.lines.some((line) => line.reqId === id && line.res)) return log;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return readLog(file);
}

describe('request logs: an id on every line of a request, echoed as X-Request-Id, and no credential', { timeout: 120_000 }, () => {
  let server: TestServer;
  let logDir: string;
  let logFile: string;
  // Every X-Request-Id this test's requests got back, and the requests that got none.
  const answeredIds = new Set<string>();
  const withoutId: string[] = [];
  const realFetch = globalThis.fetch;
  // Every credential the flows below create or use; none may reach the log.
  const secrets = new Set<string>();

  before(async () => {
    logDir = mkdtempSync(path.join(os.tmpdir(), 'nova-request-logs-'));
    logFile = path.join(logDir, 'server.log');
    server = await startTestServer({
      env: {
        LOG_LEVEL: 'trace',
        LOG_FILE: logFile,
        NOVA_TRUST_PROXY: '1',
        NOVA_PROVIDER_MAX_FAILURES: '1',
        NOVA_CANCEL_AFTER_S: '0',
        NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1',
      },
    });
    // Reads the id off every answer of our server (the server's own outgoing calls are not ours).
    globalThis.fetch = async (input, init) => {
      const response = await realFetch(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (url.startsWith(server.url)) {
        const id = response.headers.get('x-request-id');
        if (id) answeredIds.add(id);
        else withoutId.push(`${init?.method ?? 'GET'} ${url} → ${response.status}`);
      }
      return response;
    };
  });

  after(async () => {
    globalThis.fetch = realFetch;
    await server?.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  /** The token of the newest email's link to `to` (`…?token=…`). */
  async function linkToken(to: string): Promise<string> {
    const [email] = await server.services.email.outbox({ to, limit: 1 });
    const token = /[?&]token=([A-Za-z0-9_-]+)/.exec(email?.text ?? '')?.[1];
    assert.ok(token, `no link in the email to ${to}`);
    return token;
  }

  it('logs the credential flows with the ids their answers carried, and none of their credentials', async () => {
    // Sign-up (the emailed confirmation link's token), and sign-in with the password.
    const owner = await signUp(server, { password: 'a long sign-up passphrase' });
    secrets.add(owner.password);
    secrets.add(await linkToken(owner.email));
    assert.equal((await owner.client.post('/signout')).status, 200);
    const signIn = await owner.client.post('/signin', { email: owner.email, password: owner.password });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    for (const value of owner.client.cookies.values()) if (value.length >= 16) secrets.add(value);

    // The API key: on API v1 and in the sms-activate protocol's query string; then rotated.
    const firstKey: string = (await owner.client.get('/api-key')).body.data.api_key;
    secrets.add(firstKey);
    assert.equal((await server.api(firstKey).get('/api/v1/balance')).status, 200);
    const compat = await server.api().get(`/stubs/handler_api.php?api_key=${firstKey}&action=getBalance`);
    assert.match(String(compat.body), /^ACCESS_BALANCE:/);
    const rotated = await owner.client.post('/api-key/regenerate');
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const apiKey: string = rotated.body.data.api_key;
    secrets.add(apiKey);
    assert.equal((await server.api(firstKey).get('/api/v1/balance')).status, 401, 'the old key is gone');
    assert.equal((await server.api(apiKey).get('/api/v1/balance')).status, 200);

    // A webhook, whose answer carries its signing secret.
    const webhook = await server.api(apiKey).post('/api/v1/webhooks', { url: 'http://127.0.0.1:9/nova-hook', events: ['activation.sms_received'] });
    assert.equal(webhook.status, 201, JSON.stringify(webhook.body));
    secrets.add(webhook.body.data.webhook.secret);

    // Staff: password and TOTP enrolment; then a push provider whose answer carries its secret.
    const staff = await signInStaff(server, 'admin');
    secrets.add(staff.password);
    assert.ok(staff.totpSecret);
    secrets.add(staff.totpSecret);
    const provider = await staff.client.post('/supply/providers', { name: uniqueName('logs-provider'), kind: 'http' });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    const providerSecret: string = provider.body.data.credentials.secret;
    secrets.add(providerSecret);
    const push = await server.api(providerSecret).post('/api/v1/supply/sms', { to: '+12025550199', from: 'Telegram', text: 'code 12345' });
    assert.equal(push.status, 200, JSON.stringify(push.body));

    // A password reset: the link's token in the page URL and in the confirmation.
    const visitor = webClient(server.url);
    await visitor.start();
    assert.equal((await visitor.post('/password-reset/request', { email: owner.email })).status, 200);
    const resetToken = await linkToken(owner.email);
    secrets.add(resetToken);
    // The website's pages are not logged request by request (logLevel warn), but carry the id too.
    const page = await fetch(`${server.url}/reset-password?token=${resetToken}`);
    assert.ok(page.status < 500, 'the reset page');
    const pageId = page.headers.get('x-request-id');
    const newPassword = 'the reset passphrase';
    secrets.add(newPassword);
    assert.equal((await visitor.post('/password-reset/confirm', { token: resetToken, password: newPassword })).status, 200);

    // A chat visitor's token: a header on most calls, but in the query of the live stream (an
    // EventSource cannot send headers).
    const chat = await visitor.post('/chat/conversations', {});
    assert.equal(chat.status, 200, JSON.stringify(chat.body));
    const visitorToken: string = chat.body.data.visitor_token;
    secrets.add(visitorToken);
    const live = await visitor.events(`/chat/live?visitor_token=${visitorToken}`);
    assert.equal(live.status, 200);
    live.close();

    // An invitation: its token is a path segment of GET /api/web/invites/:token.
    const signedIn = await owner.client.post('/signin', { email: owner.email, password: newPassword });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const invitee = freshEmail('invitee');
    assert.equal((await owner.client.post('/team/invites', { email: invitee, role: 'member' })).status, 200);
    const inviteToken = await linkToken(invitee);
    secrets.add(inviteToken);
    const invite = await visitor.get(`/invites/${inviteToken}`);
    assert.equal(invite.status, 200);

    const { text, lines } = await logOnceCompleted(logFile, invite.headers.get('x-request-id'));
    // Every line is JSON (readLog parsed them), and the requests above were logged at all.
    assert.ok(lines.length > 40, `only ${lines.length} log lines`);
    assert.deepEqual(withoutId, [], 'answers without X-Request-Id');
    const requestLines = lines.filter((line) => line.req || line.res);
    assert.ok(requestLines.length > 40);
    for (const line of lines.filter((l) => l.reqId !== undefined)) {
      assert.ok(answeredIds.has(line.reqId!), `a line with an id no answer carried: ${JSON.stringify(line)}`);
    }
    for (const line of requestLines) assert.ok(line.reqId, `a request line without its id: ${JSON.stringify(line)}`);
    const loggedIds = new Set(requestLines.map((line) => line.reqId));
    assert.deepEqual([...answeredIds].filter((id) => !loggedIds.has(id)), [pageId], 'every API request is in the log, with its id');

    // The credentials: by shape and by value, anywhere in the file.
    const findSecret = secretMatcher(secrets);
    for (const [index, line] of text.split('\n').entries()) {
      if (line === '') continue;
      assert.equal(problemOf(line, findSecret), undefined, `log line ${index + 1}: ${line}`);
    }
    // The URLs are there, with the credentials replaced.
    const urls = requestLines.map((line) => line.req?.url).filter((url): url is string => url !== undefined);
    assert.ok(urls.includes('/stubs/handler_api.php?api_key=[redacted]&action=getBalance'), urls.join('\n'));
    assert.ok(urls.includes('/api/web/invites/[redacted]'), urls.join('\n'));
    assert.ok(urls.includes('/api/web/chat/live?visitor_token=[redacted]'), urls.join('\n'));
  });

  it('logs a provider that a finish took off sale through the app logger, naming the provider and why', async () => {
    // One rental without SMS disables a provider here; the cancel request that ends it announces
    // it, and the listener in app.ts logs through app.log. Such lines name what they are about,
    // not the request (no AsyncLocalStorage: README → Logs).
    const operator = uniqueName('op');
    const { providerId } = await server.createProvider({ count: 1, operator });
    const { apiKey } = await server.createCompany('5');
    const api = server.api(apiKey);
    const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6, operator });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const cancelled = await api.post(`/api/v1/activations/${bought.body.data.activation.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const cancelId = cancelled.headers.get('x-request-id');

    const warning = readLog(logFile).lines.find((line) => line.level === 40 && String(line.msg).startsWith(`provider ${providerId} disabled`));
    assert.ok(warning, 'the provider was disabled and logged');
    const provider = (warning as { provider?: { providerId?: number; reason?: string } }).provider;
    assert.equal(provider?.providerId, providerId);
    assert.match(String(provider?.reason), /without any SMS/);
    assert.ok(cancelId, 'the cancel answer carries its request id');
  });

  it('answers every error with X-Request-Id: a bad URL, an unknown route, a request Node refuses', async () => {
    const badUrl = await server.api().get('/api/v1/activations/%zz');
    assert.equal(badUrl.status, 400);
    const unknown = await server.api().get('/api/v1/no-such-route');
    assert.equal(unknown.status, 404);
    for (const answer of [badUrl, unknown]) assert.match(answer.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

    // A header with a control character: Node's parser refuses it before Fastify sees it. The
    // refused bytes carry a key, and must not reach the log with the error.
    const { apiKey } = await server.createCompany();
    const refused = await rawRequest(server.url, `GET /api/v1/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nX-Bad: a\u0001b\r\n\r\n`);
    assert.equal(refused.status, 400);
    assert.equal(JSON.parse(refused.text).error.code, 'invalid_request');
    const id = refused.headers['x-request-id'];
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    const { text, lines } = readLog(logFile);
    const line = lines.find((l) => l.reqId === id);
    assert.equal(line?.msg, 'client error');
    assert.ok(!JSON.stringify(line).includes('rawPacket'), 'the refused bytes (as a Buffer\'s numbers) reached the log');
    assert.ok(!text.includes(apiKey), 'the refused request reached the log');
  });

  it('takes a sane X-Request-Id from a trusted proxy, and a fresh one for anything else', async () => {
    const proxied = await server.api().get('/api/v1/countries', { 'x-request-id': 'edge-7f3a.01_B' });
    assert.equal(proxied.headers.get('x-request-id'), 'edge-7f3a.01_B');
    assert.ok((await logOnceCompleted(logFile, 'edge-7f3a.01_B')).lines.some((line) => line.reqId === 'edge-7f3a.01_B' && line.res !== undefined));
    for (const insane of ['two words', 'x'.repeat(65), 'a"b', '']) {
      const answer = await server.api().get('/api/v1/countries', { 'x-request-id': insane });
      assert.match(answer.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, `took ${JSON.stringify(insane)}`);
    }

  });

  it('answers an unexpected error 500 quoting its X-Request-Id, and logs it with that id but without the failed query\'s values', async () => {
    // A second app on the same database, with a route that fails as a bug would: a query that
    // fails with a credential among its parameters (Drizzle quotes them in its error). It runs
    // without NOVA_TRUST_PROXY, so it also shows an incoming X-Request-Id being ignored.
    const config = loadConfig({ NOVA_DATA_DIR: logDir, NOVA_DEMO: '0', LOG_LEVEL: 'info', LOG_FILE: path.join(logDir, 'second.log') });
    const app = await buildApp({ config, database: server.database, clock: server.clock, services: createServices({ config, database: server.database, clock: server.clock }), redisKeyPrefix: uniqueName('logs') });
    const secret = `whsec_${'ab'.repeat(24)}`;
    app.get('/test/failing-query', async () => server.database.db.execute(sql`select ${secret}::integer`));
    try {
      const answer = await app.inject({ method: 'GET', url: '/test/failing-query', headers: { 'x-request-id': 'chosen-by-the-client' } });
      assert.equal(answer.statusCode, 500);
      const id = String(answer.headers['x-request-id']);
      assert.match(id, /^[0-9a-f-]{36}$/, 'without a trusted proxy the incoming id is ignored');
      assert.equal(answer.json().error.code, 'internal');
      assert.match(answer.json().error.message, new RegExp(`request id ${id}`));

      const { text, lines } = readLog(path.join(logDir, 'second.log'));
      const logged = lines.find((line) => line.msg === 'unexpected error');
      assert.equal(logged?.reqId, id);
      assert.match(JSON.stringify(logged?.err), /params: \[redacted\]/, 'the error is logged, its values are not');
      assert.ok(!text.includes(secret), 'the query parameter reached the log');
    } finally {
      await app.close();
    }
  });
});
