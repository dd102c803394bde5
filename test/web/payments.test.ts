import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { signUp } from './web-client.ts';

const webhookSecret = 'whsec_test_nova_secret';
const stripe = new Stripe('sk_test_nova');

describe('website top-up with Stripe Checkout', () => {
  let server: TestServer;
  let fakeStripe: http.Server;
  const checkoutRequests: URLSearchParams[] = [];
  let sessionCounter = 0;

  before(async () => {
    // Answers like Stripe's POST /v1/checkout/sessions (the test has no network).
    fakeStripe = http.createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      if (request.method === 'POST' && request.url === '/v1/checkout/sessions') {
        checkoutRequests.push(new URLSearchParams(body));
        const id = `cs_test_fake_${++sessionCounter}`;
        response.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${sessionCounter}` });
        response.end(JSON.stringify({ id, object: 'checkout.session', url: `https://checkout.stripe.com/c/pay/${id}`, payment_status: 'unpaid', status: 'open' }));
        return;
      }
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'Unknown path' } }));
    });
    await new Promise<void>((resolve) => fakeStripe.listen(0, '127.0.0.1', resolve));
    const { port } = fakeStripe.address() as AddressInfo;
    server = await startTestServer({
      env: { STRIPE_SECRET_KEY: 'sk_test_nova', STRIPE_WEBHOOK_SECRET: webhookSecret, NOVA_STRIPE_API_URL: `http://127.0.0.1:${port}` },
    });
  });
  after(async () => {
    await server.close();
    await new Promise((resolve) => fakeStripe.close(resolve));
  });

  function postWebhook(payload: string, signature?: string) {
    const header = signature ?? stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });
    return server.api().raw('/api/web/stripe/webhook', { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
  }

  function completedEvent(sessionId: string, companyId: number, cents: number, eventId = `evt_${sessionId}`) {
    return JSON.stringify({
      id: eventId,
      object: 'event',
      type: 'checkout.session.completed',
      data: { object: { id: sessionId, object: 'checkout.session', payment_status: 'paid', amount_total: cents, currency: 'usd', metadata: { company_id: String(companyId) } } },
    });
  }

  it('a top-up creates a Stripe Checkout Session for the amount and answers with its checkout URL', async () => {
    const { client, account } = await signUp(server);
    assert.deepEqual((await client.get('/topup')).body.data, { provider: 'stripe', min_amount: 1, max_amount: 1000 });
    const started = await client.post('/topup', { amount: 25 });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.match(started.body.data.checkout_url, /^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_fake_/);
    const sent = checkoutRequests.at(-1)!;
    assert.equal(sent.get('mode'), 'payment');
    assert.equal(sent.get('line_items[0][price_data][unit_amount]'), '2500');
    assert.equal(sent.get('line_items[0][price_data][currency]'), 'usd');
    assert.equal(sent.get('metadata[company_id]'), String(account.company_id));
    // Nothing is credited before Stripe says it was paid.
    assert.equal((await client.get('/balance')).body.data.balance, 0);
    assert.equal((await client.post('/topup', { amount: 0.5 })).status, 400);
    assert.equal((await client.post('/topup', { amount: 5000 })).status, 400);
  });

  it('a correctly signed checkout.session.completed webhook credits once, even when Stripe replays it', async () => {
    const { client, account } = await signUp(server);
    const sessionId = new URL((await client.post('/topup', { amount: 12.5 })).body.data.checkout_url).pathname.split('/').at(-1)!;
    const payload = completedEvent(sessionId, account.company_id, 1250);

    const first = await postWebhook(payload);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.data.credited, true);
    const replay = await postWebhook(payload);
    assert.equal(replay.status, 200);
    assert.equal(replay.body.data.credited, false);
    const otherEventSameSession = await postWebhook(completedEvent(sessionId, account.company_id, 1250, 'evt_other'));
    assert.equal(otherEventSameSession.body.data.credited, false);

    assert.equal((await client.get('/balance')).body.data.balance, 12.5);
    const transactions = (await client.get('/transactions')).body.data;
    assert.equal(transactions.total, 1);
    assert.equal(transactions.transactions[0].kind, 'topup');
    assert.equal(transactions.transactions[0].amount, 12.5);
    assert.match(transactions.transactions[0].reason, new RegExp(sessionId));
    assert.deepEqual(await server.services.billing.verify(), []);
  });

  it('a webhook with a bad signature is refused with 400 and credits nothing', async () => {
    const { client, account } = await signUp(server);
    const sessionId = new URL((await client.post('/topup', { amount: 10 })).body.data.checkout_url).pathname.split('/').at(-1)!;
    const payload = completedEvent(sessionId, account.company_id, 1000);
    const forged = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' });
    const refused = await postWebhook(payload, forged);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'invalid_request');
    const tampered = await postWebhook(payload.replace('1000', '100000'), stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret }));
    assert.equal(tampered.status, 400);
    const unsigned = await server.api().raw('/api/web/stripe/webhook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    assert.equal(unsigned.status, 400);
    assert.equal((await client.get('/balance')).body.data.balance, 0);
  });
});

describe('website top-up without a payment provider', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { NOVA_DEMO_PAYMENTS: '0' } });
  });
  after(() => server.close());

  it('offers no free demo credit outside demo mode and says top-ups are unavailable', async () => {
    const { client } = await signUp(server);
    assert.equal((await client.get('/topup')).body.data.provider, 'none');
    const attempt = await client.post('/topup', { amount: 5 });
    assert.deepEqual([attempt.status, attempt.body.error.code], [503, 'unavailable']);
    assert.equal((await client.get('/balance')).body.data.balance, 0);
  });
});
