import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const hsts = 'max-age=31536000; includeSubDomains';

/**
 * "All requests must use HTTPS": behind a trusted TLS proxy (NOVA_TRUST_PROXY), an API call the
 * proxy says came over plain HTTP is refused rather than served, and website pages served over
 * HTTPS tell the browser to keep to HTTPS (HSTS).
 */
describe('behind a trusted proxy, API calls over plain HTTP are refused with 403 https_required', () => {
  let server: TestServer;
  let apiKey: string;
  before(async () => {
    server = await startTestServer({ env: { NOVA_TRUST_PROXY: '1' } });
    apiKey = (await server.createCompany('1')).apiKey;
  });
  after(async () => {
    await server.close();
  });

  const overHttp = { 'x-forwarded-proto': 'http' };

  for (const [label, pathname] of [
    ['API v1', '/api/v1/balance'],
    ['the website API', '/api/web/session'],
    ['the console API', '/api/console/session'],
    ['the sms-activate protocol', '/stubs/handler_api.php?action=getBalance'],
  ] as const) {
    it(`refuses ${label} (${pathname}) in the envelope`, async () => {
      const answer = await server.api(apiKey).get(pathname, overHttp);
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
      assert.equal(answer.body.ok, false);
      assert.equal(answer.body.error.code, 'https_required');
      assert.match(answer.body.error.message, /https/i);
    });
  }

  it('refuses a POST too, before reading or acting on it', async () => {
    const answer = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 }, overHttp);
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error.code, 'https_required');
  });

  it('serves the same calls when the proxy says HTTPS, or says nothing', async () => {
    const secure = await server.api(apiKey).get('/api/v1/balance', { 'x-forwarded-proto': 'https' });
    assert.equal(secure.status, 200, JSON.stringify(secure.body));
    const direct = await server.api(apiKey).get('/api/v1/balance');
    assert.equal(direct.status, 200, JSON.stringify(direct.body));
  });

  it('keeps answering /healthz over plain HTTP (load balancers probe it)', async () => {
    const health = await server.api().get('/healthz', overHttp);
    assert.equal(health.status, 200);
    assert.equal(health.body.data.status, 'up');
  });

  it('sends HSTS with website pages served over HTTPS, and not over plain HTTP', async () => {
    const secure = await fetch(`${server.url}/`, { headers: { accept: 'text/html', 'x-forwarded-proto': 'https' } });
    await secure.arrayBuffer();
    assert.equal(secure.headers.get('strict-transport-security'), hsts);
    const plain = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
    await plain.arrayBuffer();
    assert.equal(plain.headers.get('strict-transport-security'), null);
  });
});

describe('without NOVA_TRUST_PROXY, X-Forwarded-Proto is not trusted', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('neither refuses a call nor sends HSTS because of the header', async () => {
    const { apiKey } = await server.createCompany();
    const answer = await server.api(apiKey).get('/api/v1/balance', { 'x-forwarded-proto': 'http' });
    assert.equal(answer.status, 200);
    const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html', 'x-forwarded-proto': 'https' } });
    await page.arrayBuffer();
    assert.equal(page.headers.get('strict-transport-security'), null);
  });
});
