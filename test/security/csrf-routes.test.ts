import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db/database.ts';
import { signInStaff, type SignedInStaff } from '../support/console-client.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { freshEmail, outboxReader, signUp, signUpToken, type WebClient, webClient } from '../web/web-client.ts';

/**
 * Every state-changing route of the website (/api/web) and the back office (/api/console) refuses
 * a request that carries the session cookie but not the right CSRF token, before it changes
 * anything. The routes come from the app itself (app.routeIndex), so a route added later is
 * walked too; the only ones let through are listed here with the reason.
 */
const csrfExempt = new Map<string, string>([
  ['POST /api/web/stripe/webhook', "Stripe calls it server to server, without cookies; Stripe's signature authenticates it (payments.test.ts)"],
]);

const stateChanging = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);

/** A hash per table of every row: what the database holds, to tell whether a request changed anything. */
async function databaseFingerprint(server: TestServer): Promise<Map<string, string>> {
  const db = server.database.db;
  const tables = rowsOf<{ name: string }>(
    await db.execute(sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`),
  ).map((row) => row.name);
  const query = tables.map((name) => `select '${name}' as name, md5(coalesce(string_agg(t::text, ',' order by t::text), '')) as hash from "${name}" t`).join(' union all ');
  return new Map(rowsOf<{ name: string; hash: string }>(await db.execute(sql.raw(query))).map((row) => [row.name, row.hash]));
}

function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after].filter(([name, hash]) => before.get(name) !== hash).map(([name]) => name);
}

interface Probe {
  /** "METHOD /path" with the route's :params filled in. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request with exactly these cookies and, when given, this CSRF header. */
async function send(server: TestServer, method: string, probe: Probe, cookies: Map<string, string>, csrf: string | null) {
  const response = await fetch(`${server.url}${probe.path}`, {
    method,
    headers: {
      cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      ...(csrf === null ? {} : { 'x-csrf-token': csrf }),
      ...(probe.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...probe.headers,
    },
    body: probe.body === undefined ? undefined : JSON.stringify(probe.body),
  });
  const text = await response.text();
  let body: { ok?: boolean; error?: { code: string; message: string } } | null = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the assertion shows the status.
  }
  return { status: response.status, body };
}

const isCsrfRefusal = (answer: { status: number; body: { error?: { code: string; message: string } } | null }) =>
  answer.status === 403 && answer.body?.error?.code === 'forbidden' && /CSRF/.test(answer.body.error.message);

describe('CSRF on every state-changing website and console route', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof signUp>>;
  let admin: SignedInStaff;
  /** The request each route gets: real ids and valid bodies, so without the CSRF check it would change something. */
  const probes = new Map<string, Probe>();

  before(async () => {
    // The background jobs stay still (a webhook retry would change the database between two fingerprints).
    server = await startTestServer({ env: { NOVA_NEW_ACCOUNTS_PER_IP: '1000', NOVA_WEBHOOK_INTERVAL_MS: '3600000', NOVA_REMOTE_POLL_MS: '3600000' } });
    const provider = await server.createProvider({ count: 5 });
    owner = await signUp(server);
    const { client } = owner;
    await server.services.billing.credit({ companyId: owner.account.company_id, amount: 100_000, kind: 'topup', reason: 'test credit' });
    const activation = (await client.post('/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
    const webhook = (await client.post('/webhooks', { url: 'https://example.com/nova', events: ['activation.sms_received'] })).body.data.webhook;
    await server.api(provider.secret).post('/api/v1/supply/sms', { to: activation.number, from: 'Telegram', text: 'Telegram code: 24680' });
    const delivery = (await client.get(`/webhooks/${webhook.id}/deliveries`)).body.data.deliveries[0];
    const invite = (await client.post('/team/invites', { email: freshEmail('invitee'), role: 'member' })).body.data;
    const inviteToken = new URL(invite.invite_url).searchParams.get('token')!;
    const pendingInviteId = (await client.get('/team')).body.data.invites[0].id;
    const member = await server.addMember(owner.account.company_id);
    const pendingEmail = freshEmail('pending');
    const anonymous = webClient(server.url);
    await anonymous.start();
    await anonymous.post('/signup', { email: pendingEmail, password: 'long enough pw' });
    const signUpLink = signUpToken(await outboxReader(server.database)(pendingEmail));
    await anonymous.post('/password-reset/request', { email: owner.email });
    const resetToken = /reset-password\?token=([A-Za-z0-9_-]+)/.exec(await outboxReader(server.database)(owner.email))![1];
    const chat = (await client.post('/chat/conversations', { page: '/dashboard' })).body.data;

    admin = await signInStaff(server, 'admin');
    const catalogCountry = 6;
    const web: Record<string, Probe> = {
      'POST /api/web/signup': { path: '/api/web/signup', body: { email: freshEmail('probe'), password: 'long enough pw' } },
      'POST /api/web/signup/confirm': { path: '/api/web/signup/confirm', body: { token: signUpLink } },
      'POST /api/web/signin': { path: '/api/web/signin', body: { email: owner.email, password: owner.password } },
      'POST /api/web/signout': { path: '/api/web/signout' },
      'POST /api/web/password-reset/request': { path: '/api/web/password-reset/request', body: { email: owner.email } },
      'POST /api/web/password-reset/confirm': { path: '/api/web/password-reset/confirm', body: { token: resetToken, password: 'a brand new password' } },
      'POST /api/web/invites/accept': { path: '/api/web/invites/accept', body: { token: inviteToken, password: 'member password 1' } },
      'POST /api/web/activations': { path: '/api/web/activations', body: { service_code: 'tg', country_id: 6 } },
      'POST /api/web/activations/:id/cancel': { path: `/api/web/activations/${activation.id}/cancel` },
      'POST /api/web/activations/:id/complete': { path: `/api/web/activations/${activation.id}/complete` },
      'POST /api/web/api-key/regenerate': { path: '/api/web/api-key/regenerate' },
      'POST /api/web/team/invites': { path: '/api/web/team/invites', body: { email: freshEmail('invitee'), role: 'member' } },
      'POST /api/web/team/invites/:id/revoke': { path: `/api/web/team/invites/${pendingInviteId}/revoke` },
      'POST /api/web/team/members/:id/role': { path: `/api/web/team/members/${member.accountId}/role`, body: { role: 'owner' } },
      'POST /api/web/team/members/:id/remove': { path: `/api/web/team/members/${member.accountId}/remove` },
      'POST /api/web/webhooks': { path: '/api/web/webhooks', body: { url: 'https://example.com/other', events: ['balance.low'] } },
      'POST /api/web/webhooks/:id/delete': { path: `/api/web/webhooks/${webhook.id}/delete` },
      'POST /api/web/webhooks/deliveries/:id/resend': { path: `/api/web/webhooks/deliveries/${delivery.id}/resend` },
      'POST /api/web/topup': { path: '/api/web/topup', body: { amount: 5 } },
      'POST /api/web/chat/conversations': { path: '/api/web/chat/conversations', body: { page: '/' } },
      'POST /api/web/chat/messages': { path: '/api/web/chat/messages', body: { text: 'hello' }, headers: { 'x-visitor-token': chat.visitor_token } },
      'POST /api/web/feedback': { path: '/api/web/feedback', body: { rating: 5, context: 'general' } },
    };
    const company = owner.account.company_id;
    const console: Record<string, Probe> = {
      'POST /api/console/signout': { path: '/api/console/signout' },
      'POST /api/console/staff': { path: '/api/console/staff', body: { email: `${freshEmail('staff')}`, role: 'support' } },
      'POST /api/console/companies/:id/adjustments': { path: `/api/console/companies/${company}/adjustments`, body: { amount: 1, reason: 'probe' } },
      'POST /api/console/companies/:id/block': { path: `/api/console/companies/${company}/block`, body: { reason: 'probe' } },
      'POST /api/console/catalog/services': { path: '/api/console/catalog/services', body: { code: 'zz', name: 'Probe' } },
      'POST /api/console/catalog/countries/:id': { path: `/api/console/catalog/countries/${catalogCountry}`, body: { name: 'Probe land' } },
      'POST /api/console/pricing/price': { path: '/api/console/pricing/price', body: { service_code: 'tg', country_id: catalogCountry, price: 9 } },
    };
    for (const [key, probe] of Object.entries({ ...web, ...console })) probes.set(key, probe);
  });
  after(async () => {
    await server.close();
  });

  const routesUnder = (prefix: string) => server.app.routeIndex.filter((r) => stateChanging(r.method) && r.url.startsWith(prefix));
  /** The route's probe, or its path with every :param an id that exists nowhere and an empty body. */
  const probeOf = (method: string, url: string): Probe => probes.get(`${method} ${url}`) ?? { path: url.replace(/:[A-Za-z_]+/g, '999999'), body: {} };

  it('knows the routes: every exemption and every prepared probe names a route that exists', () => {
    const known = new Set(server.app.routeIndex.map((r) => `${r.method} ${r.url}`));
    assert.ok(routesUnder('/api/web/').length >= 20, 'the website routes were not found');
    assert.ok(routesUnder('/api/console/').length >= 20, 'the console routes were not found');
    for (const route of [...csrfExempt.keys(), ...probes.keys()]) assert.ok(known.has(route), `no such route: ${route}`);
  });

  for (const [area, prefix, cookieOf] of [
    ['website', '/api/web/', () => owner.client],
    ['console', '/api/console/', () => admin.client],
  ] as const) {
    it(`${area}: with the session cookie but without the CSRF header, or with a wrong one, every state-changing route answers 403 and changes nothing`, async () => {
      const client: WebClient = cookieOf();
      const routes = routesUnder(prefix).filter((r) => !csrfExempt.has(`${r.method} ${r.url}`));
      for (const { method, url } of routes) {
        const probe = probeOf(method, url);
        const before = await databaseFingerprint(server);
        for (const csrf of [null, 'forged-token', '']) {
          const answer = await send(server, method, probe, client.cookies, csrf);
          assert.ok(isCsrfRefusal(answer), `${method} ${url} with CSRF header ${JSON.stringify(csrf)}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
        assert.deepEqual(changedTables(before, await databaseFingerprint(server)), [], `${method} ${url} changed the database although refused`);
      }
    });
  }

  it('the probes are real: with the right token the same requests pass the CSRF check, and they do change the database', async () => {
    // The sign-outs last: they end the sessions the other probes use.
    const signOut = (r: { url: string }) => r.url.endsWith('/signout');
    const all = [...routesUnder('/api/console/'), ...routesUnder('/api/web/')];
    const ordered = [...all.filter((r) => !signOut(r)), ...all.filter(signOut)];
    for (const { method, url } of ordered) {
      if (csrfExempt.has(`${method} ${url}`)) continue;
      const client = url.startsWith('/api/console/') ? admin.client : owner.client;
      const probe = probeOf(method, url);
      const before = await databaseFingerprint(server);
      const answer = await send(server, method, probe, client.cookies, client.csrf);
      assert.ok(!isCsrfRefusal(answer), `${method} ${url} refused the right CSRF token: ${JSON.stringify(answer.body)}`);
      if (probes.has(`${method} ${url}`) && answer.status < 300) {
        // Every prepared probe that succeeds here would have been a change (the token is the only difference).
        assert.notDeepEqual(changedTables(before, await databaseFingerprint(server)), [], `${method} ${url} succeeded without changing anything: a weak probe`);
      }
    }
  });

  it('the exempt Stripe webhook is authenticated by its signature instead: without one it is refused and changes nothing', async () => {
    const before = await databaseFingerprint(server);
    const answer = await send(server, 'POST', { path: '/api/web/stripe/webhook', body: { type: 'checkout.session.completed' } }, new Map(), null);
    assert.ok(answer.status === 400 || answer.status === 503, `${answer.status} ${JSON.stringify(answer.body)}`);
    assert.ok(!isCsrfRefusal(answer));
    assert.deepEqual(changedTables(before, await databaseFingerprint(server)), []);
  });
});
