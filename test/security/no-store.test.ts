import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cliActor } from '../../src/modules/audit/audit.service.ts';
import { consoleClient, signInStaff, type SignedInStaff } from '../support/console-client.ts';
import { type ApiResponse, startTestServer, type TestServer } from '../support/test-server.ts';
import { uniqueName } from '../support/test-target.ts';
import { freshEmail, signUp, webClient } from '../web/web-client.ts';

/**
 * An answer that carries a secret (an API key, a webhook or provider secret, a password, a TOTP
 * secret, an invite link, a chat's visitor token) says `Cache-Control: no-store`, so no browser
 * or proxy cache keeps a copy of it.
 */
function assertNoStore(answer: ApiResponse, what: string) {
  assert.ok(answer.status < 300, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.headers.get('cache-control'), 'no-store', `${what} must not be cached`);
}

describe('answers carrying secrets are never cached', () => {
  let server: TestServer;
  let admin: SignedInStaff;
  before(async () => {
    server = await startTestServer();
    admin = await signInStaff(server, 'admin');
  });
  after(async () => {
    await server.close();
  });

  it('website: the API key, its regeneration, a new webhook, an invite link, the session answer and a chat token', async () => {
    const { client } = await signUp(server);
    assertNoStore(await client.get('/api-key'), 'GET /api/web/api-key');
    assertNoStore(await client.post('/api-key/regenerate'), 'POST /api/web/api-key/regenerate');
    assertNoStore(await client.post('/webhooks', { url: 'https://example.com/nova/hook', events: ['activation.sms_received'] }), 'POST /api/web/webhooks');
    assertNoStore(await client.post('/team/invites', { email: freshEmail('invitee'), role: 'member' }), 'POST /api/web/team/invites');
    assertNoStore(await client.get('/session'), 'GET /api/web/session (csrf_token)');
    const visitor = webClient(server.url);
    await visitor.start();
    assertNoStore(await visitor.post('/chat/conversations', {}), 'POST /api/web/chat/conversations (visitor_token)');
  });

  it('API v1: a new webhook with its signing secret', async () => {
    const { apiKey } = await server.createCompany();
    const created = await server.api(apiKey).post('/api/v1/webhooks', { url: 'https://example.com/nova/hook', events: ['activation.sms_received'] });
    assertNoStore(created, 'POST /api/v1/webhooks');
  });

  it('console: a new provider with its secret, a new staff member with the password, TOTP enrolment', async () => {
    assertNoStore(await admin.client.post('/supply/providers', { name: uniqueName('modem'), kind: 'http' }), 'POST /api/console/supply/providers');
    assertNoStore(await admin.client.post('/staff', { email: `${uniqueName('ops')}@nova.example`, role: 'support' }), 'POST /api/console/staff');
    const email = `${uniqueName('admin')}@nova.example`;
    const { password } = await server.services.staff.create(cliActor, { email, role: 'admin' });
    const client = consoleClient(server.url);
    assertNoStore(await client.start(), 'GET /api/console/session (csrf_token)');
    assert.equal((await client.post('/signin', { email, password })).status, 200);
    assertNoStore(await client.post('/totp/enroll'), 'POST /api/console/totp/enroll');
  });

  it('an answer without a secret is left to the usual caching rules', async () => {
    const { client } = await signUp(server);
    const balance = await client.get('/balance');
    assert.equal(balance.status, 200);
    assert.equal(balance.headers.get('cache-control'), null);
  });
});
