import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { signInStaff } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { webClient } from '../web/web-client.ts';

const hsts = 'max-age=31536000; includeSubDomains';

/** The headers every answer must carry, whatever it is. */
function assertSecurityHeaders(headers: Headers, what: string) {
  const csp = headers.get('content-security-policy') ?? '';
  assert.match(csp, /frame-ancestors 'none'/, `${what}: CSP ${csp}`);
  assert.match(csp, /default-src '(self|none)'/, `${what}: CSP ${csp}`);
  assert.doesNotMatch(csp, /https?:|unsafe-inline|unsafe-eval/, `${what}: CSP allows a third party or inline code: ${csp}`);
  assert.equal(headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(headers.get('x-frame-options'), 'DENY', what);
  assert.equal(headers.get('referrer-policy'), 'no-referrer', what);
  assert.equal(headers.get('cross-origin-resource-policy'), 'same-origin', what);
}

describe('security headers on every answer', () => {
  let server: TestServer;
  before(async () => {
    // Behind a trusted proxy, so a request can say it came over HTTPS (HSTS); without the header it is plain HTTP.
    server = await startTestServer({ env: { NOVA_TRUST_PROXY: '1' } });
  });
  after(async () => {
    await server.close();
  });

  it('pages, assets, API JSON, error envelopes, 404s, /healthz, the console and live streams all carry them', async () => {
    const { apiKey } = await server.createCompany('1');
    const staff = await signInStaff(server, 'admin');
    const html = { accept: 'text/html' };
    const page = await fetch(`${server.url}/dashboard`, { headers: html });
    assert.equal(page.status, 200, 'the website is built (npm test builds it; or npm run build:web)');
    const pageHtml = await page.text();
    const asset = /\/assets\/[^"]+\.js/.exec(pageHtml)?.[0];
    assert.ok(asset, 'the page loads a script');

    const answers: [string, string, Record<string, string>, number][] = [
      ['a page', '/dashboard', html, 200],
      ['a reset link page (its token in the URL)', '/reset-password?token=secret', html, 200],
      ['a console page', '/console/catalog', html, 200],
      ['an asset', asset, {}, 200],
      ['API JSON', '/api/v1/balance', { authorization: `Bearer ${apiKey}` }, 200],
      ['an error envelope', '/api/v1/balance', {}, 401],
      ['a 404 under /api', '/api/v1/nothing-here', {}, 404],
      ['a 404 outside /api', '/nothing-here', {}, 404],
      ['a router refusal (bad percent-encoding)', '/api/v1/activations/%zz', {}, 400],
      ['/healthz', '/healthz', {}, 200],
      ['the website session', '/api/web/session', {}, 200],
      ['the console API', '/api/console/staff', { cookie: [...staff.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }, 200],
      ['sms-activate compatibility', `/stubs/handler_api.php?api_key=${apiKey}&action=getBalance`, {}, 200],
    ];
    for (const [what, path, headers, status] of answers) {
      const response = await fetch(`${server.url}${path}`, { headers });
      assert.equal(response.status, status, `${what}: ${path}`);
      assertSecurityHeaders(response.headers, what);
      await response.arrayBuffer();
    }

    // A state-changing website call refused for its CSRF token, and a server-sent event stream
    // (its answer is written outside Fastify's reply).
    const refused = await fetch(`${server.url}/api/web/signout`, { method: 'POST' });
    assert.equal(refused.status, 403);
    assertSecurityHeaders(refused.headers, 'a CSRF refusal');
    const visitor = webClient(server.url);
    await visitor.start();
    const { visitor_token } = (await visitor.post('/chat/conversations', {})).body.data;
    const abort = new AbortController();
    const stream = await fetch(`${server.url}/api/web/chat/live?visitor_token=${visitor_token}`, { signal: abort.signal });
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    assertSecurityHeaders(stream.headers, 'a live event stream');
    abort.abort();
  });

  it('the page CSP is the one that lets the website run: scripts, styles and calls from this server only', async () => {
    const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:", "object-src 'none'", "base-uri 'self'", "form-action 'self'"]) {
      assert.ok(csp.includes(directive), `missing ${directive} in ${csp}`);
    }
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    // Over plain HTTP (no trusted proxy saying otherwise), no HSTS.
    assert.equal(page.headers.get('strict-transport-security'), null);
  });

  it('an API answer, never a document, loads nothing and skips the headers that act only on documents', async () => {
    const { apiKey } = await server.createCompany();
    for (const [path, headers] of [
      ['/api/v1/balance', { authorization: `Bearer ${apiKey}` }],
      ['/api/v1/activations/1', {}],
      [`/stubs/handler_api.php?api_key=${apiKey}&action=getBalance`, {}],
      ['/healthz', {}],
    ] as const) {
      const answer = await fetch(`${server.url}${path}`, { headers });
      assert.equal(answer.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'", path);
      for (const documentOnly of ['cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-xss-protection']) {
        assert.equal(answer.headers.get(documentOnly), null, `${path}: ${documentOnly}`);
      }
      await answer.arrayBuffer();
    }
  });

  it('a request Node’s HTTP parser refuses is answered with them too', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const url = new URL(server.url);
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write('GET /\u0001 HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400/);
    const headers = new Headers(
      raw
        .split('\r\n\r\n')[0]
        .split('\r\n')
        .slice(1)
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as [string, string]),
    );
    assert.match(headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(headers.get('x-content-type-options'), 'nosniff');
    assert.equal(headers.get('x-frame-options'), 'DENY');
  });

  it('a page, an API answer and /healthz the trusted proxy got over HTTPS say Strict-Transport-Security; over HTTP they do not', async () => {
    const { apiKey } = await server.createCompany();
    for (const [path, headers] of [
      ['/', { accept: 'text/html' }],
      ['/api/v1/balance', { authorization: `Bearer ${apiKey}` }],
      ['/healthz', {}],
    ] as const) {
      const secure = await fetch(`${server.url}${path}`, { headers: { ...headers, 'x-forwarded-proto': 'https' } });
      assert.equal(secure.headers.get('strict-transport-security'), hsts, path);
      assertSecurityHeaders(secure.headers, `${path} over HTTPS`);
      const plain = await fetch(`${server.url}${path}`, { headers: { ...headers, 'x-forwarded-proto': 'http' } });
      assert.equal(plain.headers.get('strict-transport-security'), null, path);
    }
  });
});
