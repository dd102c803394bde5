import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SignedInStaff, signInStaff } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { signUp } from '../web/web-client.ts';

/**
 * The console routes support staff may use, as "METHOD /api/console/path" with Fastify's
 * `:param` placeholders. Every other back-office route is for admins only.
 */
const supportRoutes = new Set<string>([
  'GET /api/console/staff',
  'GET /api/console/support/conversations',
  'GET /api/console/support/conversations/:id',
  'GET /api/console/support/conversations/:id/context',
  'POST /api/console/support/conversations/:id/messages',
  'POST /api/console/support/conversations/:id/assign',
  'POST /api/console/support/conversations/:id/close',
  'POST /api/console/support/conversations/:id/reopen',
  'GET /api/console/support/agents',
  'GET /api/console/support/live',
  'GET /api/console/feedback/ratings',
  'GET /api/console/feedback/comments',
  'GET /api/console/companies',
  'GET /api/console/companies/:id',
  'GET /api/console/companies/:id/activations',
  'GET /api/console/companies/:id/ledger',
  'GET /api/console/monitor/activations',
]);

/** One request with only these cookies and headers; the answer's status and error body (streams are cut after the headers). */
async function probe(baseUrl: string, method: string, url: string, cookies: Map<string, string>, csrf: string) {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}${url}`, {
    method,
    signal: abort.signal,
    headers: {
      cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      ...(method === 'GET' ? {} : { 'x-csrf-token': csrf, 'content-type': 'application/json' }),
    },
    body: method === 'GET' ? undefined : '{}',
  });
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('application/json') ? ((await response.json()) as { ok: boolean; error?: { code: string; message: string } }) : null;
  abort.abort();
  return { status: response.status, body };
}

describe('console authorization, route by route', () => {
  let server: TestServer;
  let admin: SignedInStaff;
  let support: SignedInStaff;
  let customerCookies: Map<string, string>;
  let anonymousCookies: Map<string, string>;
  let routes: { method: string; url: string }[];

  before(async () => {
    server = await startTestServer();
    admin = await signInStaff(server, 'admin');
    support = await signInStaff(server, 'support');
    // A signed-in customer holding a console CSRF cookie too: only the missing staff session can stop it.
    const customer = await signUp(server);
    customerCookies = new Map([...customer.client.cookies, ['nova_console_csrf', admin.client.csrf]]);
    anonymousCookies = new Map([['nova_console_csrf', admin.client.csrf]]);
    // Placeholders become an id that exists nowhere; authorization is decided before the handler runs.
    routes = server.app.consoleRouteIndex.map(({ method, url }) => ({ method, url }));
  });
  after(async () => {
    await server.close();
  });

  const concrete = (url: string) => url.replace(/:[A-Za-z_]+/g, '999999');

  it('knows every back-office route, and every route the support table names exists', () => {
    assert.ok(routes.length >= 3, 'no console routes found');
    const known = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const entry of supportRoutes) assert.ok(known.has(entry), `supportRoutes names a route that does not exist: ${entry}`);
  });

  it('turns anonymous visitors away with 403 on every back-office route', async () => {
    for (const { method, url } of routes) {
      const answer = await probe(server.url, method, concrete(url), anonymousCookies, admin.client.csrf);
      assert.equal(answer.status, 403, `${method} ${url} answered ${answer.status} to an anonymous visitor`);
      assert.equal(answer.body?.error?.code, 'forbidden', `${method} ${url}`);
      assert.match(answer.body?.error?.message ?? '', /Staff only/, `${method} ${url}`);
    }
  });

  it('turns signed-in customers away with 403 on every back-office route', async () => {
    for (const { method, url } of routes) {
      const answer = await probe(server.url, method, concrete(url), customerCookies, admin.client.csrf);
      assert.equal(answer.status, 403, `${method} ${url} answered ${answer.status} to a customer`);
      assert.match(answer.body?.error?.message ?? '', /Staff only/, `${method} ${url}`);
    }
  });

  it('lets support staff use only the routes support may use', async () => {
    for (const { method, url } of routes) {
      const answer = await probe(server.url, method, concrete(url), support.client.cookies, support.client.csrf);
      if (supportRoutes.has(`${method} ${url}`)) {
        assert.notEqual(answer.status, 403, `${method} ${url} refused support staff: ${JSON.stringify(answer.body)}`);
      } else {
        assert.equal(answer.status, 403, `${method} ${url} answered ${answer.status} to support staff`);
        assert.match(answer.body?.error?.message ?? '', /admin/, `${method} ${url}`);
      }
    }
  });

  it('lets admins through the staff check on every route (validation or not-found may still answer)', async () => {
    for (const { method, url } of routes) {
      const answer = await probe(server.url, method, concrete(url), admin.client.cookies, admin.client.csrf);
      assert.notEqual(answer.status, 403, `${method} ${url} refused an admin: ${JSON.stringify(answer.body)}`);
      assert.notEqual(answer.status, 500, `${method} ${url} failed with 500 on a placeholder id: ${JSON.stringify(answer.body)}`);
    }
  });
});
