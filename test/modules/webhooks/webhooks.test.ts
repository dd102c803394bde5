import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Database } from '../../../src/db/database.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { createScratchDatabase, testTarget } from '../../support/test-target.ts';

const env = { NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1', NOVA_WEBHOOK_INTERVAL_MS: '600000' };

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}

// Closed at the end even when a test fails half-way, so an open receiver never keeps the file running.
const openReceivers = new Set<http.Server>();
after(async () => {
  for (const receiver of openReceivers) {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  }
});

/** A real HTTP receiver on a loopback port; answers with the given statuses in turn, then 200. */
async function startReceiver(statuses: number[] = []) {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: request.headers, body, json: JSON.parse(body) });
      response.statusCode = statuses.shift() ?? 200;
      response.end('ok');
    });
  });
  openReceivers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/nova`,
    received,
    close: async () => {
      openReceivers.delete(server);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a customer's receiver does (the README snippet): recompute the HMAC over "<t>.<body>". */
function signatureValid(secret: string, body: string, header: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=')));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
  return parts.v1 === expected;
}

/** One database two servers can share: in-memory PGlite, or a scratch PostgreSQL database. */
async function sharedDatabase(): Promise<{ database: Database; drop(): Promise<void> }> {
  if (testTarget === 'postgres') {
    const scratch = await createScratchDatabase();
    const database = await openDatabase({ databaseUrl: scratch.url, dataDir: 'unused', poolSize: 5 });
    return { database, drop: async () => (await database.close(), await scratch.drop()) };
  }
  const database = await openDatabase({ dataDir: 'memory://' });
  return { database, drop: () => database.close() };
}

async function seedCatalog(server: TestServer) {
  await server.services.catalog.upsertService({ code: 'tg', name: 'Telegram' });
  await server.services.catalog.upsertCountry({ id: 6, name: 'United States', iso: 'US', dialPrefix: '1' });
  await server.services.catalog.setPrice({ serviceCode: 'tg', countryId: 6, price: 5000 });
}

describe('webhooks', () => {
  let server: TestServer;
  let provider: { secret: string; numbers: string[] };
  let next = 0;

  before(async () => {
    server = await startTestServer({ env });
    provider = await server.createProvider({ countryId: 6, count: 60 });
  });
  after(() => server.close());

  async function register(apiKey: string, url: string, events: string[], extra: Record<string, unknown> = {}) {
    const created = await server.api(apiKey).post('/api/v1/webhooks', { url, events, ...extra });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.data.webhook as { id: number; secret: string; balance_low_threshold: number };
  }

  async function buy(apiKey: string) {
    const bought = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    return bought.body.data.activation as { id: number; number: string };
  }

  const sms = (to: string, text = `Telegram code: ${12345 + next++}`) =>
    server.api(provider.secret).post('/api/v1/supply/sms', { to, from: 'Telegram', text });

  const deliveries = async (apiKey: string, webhookId: number) =>
    (await server.api(apiKey).get(`/api/v1/webhooks/${webhookId}/deliveries`)).body.data.deliveries;

  it('posts a signed activation.sms_received event the receiver can verify with the secret', async () => {
    const receiver = await startReceiver();
    const { apiKey } = await server.createCompany('10');
    const webhook = await register(apiKey, receiver.url, ['activation.sms_received']);
    assert.match(webhook.secret, /^whsec_[0-9a-f]{48}$/);

    const activation = await buy(apiKey);
    await sms(activation.number, 'Telegram code: 48213');
    assert.equal(receiver.received.length, 0, 'nothing is sent before the delivery job runs');
    await server.jobs.webhooks.runOnce();

    assert.equal(receiver.received.length, 1);
    const [request] = receiver.received;
    assert.equal(request.headers['content-type'], 'application/json');
    assert.ok(signatureValid(webhook.secret, request.body, String(request.headers['nova-signature'])));
    assert.ok(!signatureValid('whsec_other', request.body, String(request.headers['nova-signature'])));
    assert.match(String(request.headers['nova-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
    const t = Number(/t=(\d+)/.exec(String(request.headers['nova-signature']))![1]);
    assert.equal(t, Math.floor(server.clock.now().getTime() / 1000), 'the timestamp comes from the server clock');
    assert.equal(request.json.id, request.headers['nova-event-id']);
    assert.equal(request.json.type, 'activation.sms_received');
    assert.match(request.json.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.deepEqual(
      { id: request.json.data.activation.id, status: request.json.data.activation.status, code: request.json.data.activation.code, number: request.json.data.activation.number },
      { id: activation.id, status: 'sms_received', code: '48213', number: activation.number },
    );

    const [logged] = await deliveries(apiKey, webhook.id);
    assert.deepEqual(
      { event: logged.event, status: logged.status, attempts: logged.attempts, last_response_code: logged.last_response_code, next_attempt_at: logged.next_attempt_at, event_id: logged.event_id },
      { event: 'activation.sms_received', status: 'delivered', attempts: 1, last_response_code: 200, next_attempt_at: null, event_id: request.json.id },
    );
    await server.jobs.webhooks.runOnce();
    assert.equal(receiver.received.length, 1, 'a delivered event is not sent again');
    await receiver.close();
  });

  it('retries a delivery answered with 500 after 10 s and 30 s, and records the third attempt as delivered', async () => {
    const receiver = await startReceiver([500, 500]);
    const { apiKey } = await server.createCompany('10');
    const webhook = await register(apiKey, receiver.url, ['activation.sms_received']);
    await sms((await buy(apiKey)).number);

    await server.jobs.webhooks.runOnce();
    let [logged] = await deliveries(apiKey, webhook.id);
    assert.deepEqual({ status: logged.status, attempts: logged.attempts, code: logged.last_response_code }, { status: 'pending', attempts: 1, code: 500 });
    assert.equal(Date.parse(`${logged.next_attempt_at}Z`) - Date.parse(`${logged.created_at}Z`), 10_000);

    server.clock.advance(9);
    await server.jobs.webhooks.runOnce();
    assert.equal(receiver.received.length, 1, 'not retried before its time');
    server.clock.advance(1);
    await server.jobs.webhooks.runOnce();
    [logged] = await deliveries(apiKey, webhook.id);
    assert.deepEqual({ status: logged.status, attempts: logged.attempts, code: logged.last_response_code }, { status: 'pending', attempts: 2, code: 500 });
    server.clock.advance(30);
    await server.jobs.webhooks.runOnce();

    [logged] = await deliveries(apiKey, webhook.id);
    assert.deepEqual({ status: logged.status, attempts: logged.attempts, code: logged.last_response_code }, { status: 'delivered', attempts: 3, code: 200 });
    assert.equal(receiver.received.length, 3);
    assert.equal(new Set(receiver.received.map((r) => r.headers['nova-event-id'])).size, 1, 'every attempt carries the same event id');
    await receiver.close();
  });

  it('gives a delivery up as failed once its retries pass 24 hours', async () => {
    const receiver = await startReceiver(Array(100).fill(503));
    const { apiKey } = await server.createCompany('10');
    const webhook = await register(apiKey, receiver.url, ['activation.sms_received']);
    await sms((await buy(apiKey)).number);
    const start = server.clock.now().getTime();
    for (let i = 0; i < 40; i++) {
      await server.jobs.webhooks.runOnce();
      const [logged] = await deliveries(apiKey, webhook.id);
      if (logged.status !== 'pending') break;
      // The API shows whole seconds; one more makes sure the attempt is due.
      server.clock.advance((Date.parse(`${logged.next_attempt_at}Z`) - server.clock.now().getTime()) / 1000 + 1);
    }
    const [logged] = await deliveries(apiKey, webhook.id);
    assert.equal(logged.status, 'failed');
    assert.equal(logged.next_attempt_at, null);
    assert.equal(logged.last_response_code, 503);
    assert.equal(logged.attempts, receiver.received.length);
    assert.ok(logged.attempts >= 8, `retried with backoff (${logged.attempts} attempts)`);
    assert.ok(server.clock.now().getTime() - start <= 24 * 3600 * 1000, 'no attempt after 24 h');
    await receiver.close();
  });

  it('announces cancelled and expired activations to endpoints that asked for them only', async () => {
    const receiver = await startReceiver();
    const { apiKey } = await server.createCompany('10');
    await register(apiKey, receiver.url, ['activation.cancelled', 'activation.expired']);
    const cancelled = await buy(apiKey);
    const expiring = await buy(apiKey);
    server.clock.advance(180);
    assert.equal((await server.api(apiKey).post(`/api/v1/activations/${cancelled.id}/cancel`)).status, 200);
    server.clock.advance(1200);
    await server.jobs.sweeper.runOnce();
    await server.jobs.webhooks.runOnce();

    const events = receiver.received.map((r) => [r.json.type, r.json.data.activation.id, r.json.data.activation.status]);
    assert.deepEqual(events.sort(), [
      ['activation.cancelled', cancelled.id, 'cancelled'],
      ['activation.expired', expiring.id, 'expired'],
    ]);
    await receiver.close();
  });

  it('fires balance.low once when the balance falls below the threshold, and again only after it rose above', async () => {
    const receiver = await startReceiver();
    const company = await server.createCompany('1.2');
    await register(company.apiKey, receiver.url, ['balance.low']);
    await buy(company.apiKey); // 1.20 → 0.70: crosses 1.00
    await buy(company.apiKey); // 0.70 → 0.20: still below, no new event
    await server.jobs.webhooks.runOnce();
    assert.deepEqual(receiver.received.map((r) => [r.json.type, r.json.data]), [['balance.low', { balance: 0.7, currency: 'USD', threshold: 1 }]]);

    await server.services.billing.credit({ companyId: company.companyId, amount: 9_800, kind: 'topup', reason: 'test' }); // 1.18
    await buy(company.apiKey); // 1.18 → 0.68: a new crossing
    await server.jobs.webhooks.runOnce();
    assert.deepEqual(receiver.received.map((r) => r.json.data.balance), [0.7, 0.68]);
    assert.equal(receiver.received.filter((r) => r.json.type !== 'balance.low').length, 0, 'only the subscribed event type is sent');
    await receiver.close();
  });

  it('uses the threshold the endpoint sets', async () => {
    const receiver = await startReceiver();
    const { apiKey } = await server.createCompany('10');
    const webhook = await register(apiKey, receiver.url, ['balance.low'], { balance_low_threshold: 9.6 });
    assert.equal(webhook.balance_low_threshold, 9.6);
    await buy(apiKey);
    await server.jobs.webhooks.runOnce();
    assert.deepEqual(receiver.received.map((r) => r.json.data), [{ balance: 9.5, currency: 'USD', threshold: 9.6 }]);
    await receiver.close();
  });

  it('resends a delivery as a new delivery with the same event id', async () => {
    const receiver = await startReceiver();
    const { apiKey } = await server.createCompany('10');
    const webhook = await register(apiKey, receiver.url, ['activation.sms_received']);
    await sms((await buy(apiKey)).number);
    await server.jobs.webhooks.runOnce();
    const [original] = await deliveries(apiKey, webhook.id);

    const resent = await server.api(apiKey).post(`/api/v1/webhooks/deliveries/${original.id}/resend`);
    assert.equal(resent.status, 201);
    assert.notEqual(resent.body.data.delivery.id, original.id);
    assert.deepEqual(
      { status: resent.body.data.delivery.status, attempts: resent.body.data.delivery.attempts, resend_of: resent.body.data.delivery.resend_of, event_id: resent.body.data.delivery.event_id },
      { status: 'pending', attempts: 0, resend_of: original.id, event_id: original.event_id },
    );
    await server.jobs.webhooks.runOnce();
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[1].body, receiver.received[0].body, 'the same event, byte for byte');
    const log = await deliveries(apiKey, webhook.id);
    assert.deepEqual(log.map((d: any) => d.status), ['delivered', 'delivered']);

    const other = await server.createCompany('1');
    assert.equal((await server.api(other.apiKey).post(`/api/v1/webhooks/deliveries/${original.id}/resend`)).body.error.code, 'not_found');
    await receiver.close();
  });

  it('lists and deletes endpoints, and a deleted endpoint gets nothing more', async () => {
    const receiver = await startReceiver();
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const kept = await register(apiKey, 'https://example.com/kept', ['balance.low']);
    const removed = await register(apiKey, receiver.url, ['activation.sms_received']);
    await sms((await buy(apiKey)).number);

    const other = await server.createCompany('1');
    assert.equal((await server.api(other.apiKey).post(`/api/v1/webhooks/${removed.id}/delete`)).status, 404);
    const deleted = await api.raw(`/api/v1/webhooks/${removed.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${apiKey}` } });
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body.data, { deleted: true, id: removed.id });
    await server.jobs.webhooks.runOnce();
    assert.equal(receiver.received.length, 0, 'the pending delivery of a deleted endpoint is dropped');

    const listed: any[] = (await api.get('/api/v1/webhooks')).body.data.webhooks;
    assert.deepEqual(listed, [{ id: kept.id, url: 'https://example.com/kept', events: ['balance.low'], balance_low_threshold: 1, created_at: listed[0].created_at }]);
    assert.ok(!('secret' in (listed[0] as object)), 'the secret is shown only at creation');
    assert.equal((await api.get(`/api/v1/webhooks/${removed.id}/deliveries`)).status, 404);
    await receiver.close();
  });

  it('lets only owners manage webhooks', async () => {
    const { apiKey, companyId } = await server.createCompany('10');
    const owned = await register(apiKey, 'https://example.com/hook', ['balance.low']);
    const member = server.api((await server.addMember(companyId)).apiKey);
    for (const response of [
      await member.post('/api/v1/webhooks', { url: 'https://example.com/member', events: ['balance.low'] }),
      await member.get('/api/v1/webhooks'),
      await member.post(`/api/v1/webhooks/${owned.id}/delete`),
      await member.get(`/api/v1/webhooks/${owned.id}/deliveries`),
    ]) {
      assert.equal(response.status, 403);
      assert.equal(response.body.error.code, 'forbidden');
    }
    assert.equal((await server.api(apiKey).get('/api/v1/webhooks')).body.data.webhooks.length, 1);
  });

  it('refuses URLs that are not https and unknown event names', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    for (const [url, events] of [
      ['http://example.com/hook', ['balance.low']],
      ['ftp://example.com/hook', ['balance.low']],
      ['not a url', ['balance.low']],
      ['https://example.com/hook', []],
      ['https://example.com/hook', ['activation.created']],
    ] as const) {
      const refused = await api.post('/api/v1/webhooks', { url, events });
      assert.equal(refused.status, 400, url);
      assert.equal(refused.body.error.code, 'invalid_request');
    }
  });
});

describe('webhook delivery across instances', () => {
  let shared: Awaited<ReturnType<typeof sharedDatabase>>;
  const clock = new ManualClock();

  before(async () => {
    shared = await sharedDatabase();
  });
  after(() => shared.drop());

  async function prepare(first: TestServer, events: number) {
    await seedCatalog(first);
    const provider = await first.createProvider({ countryId: 6, count: events });
    const { apiKey } = await first.createCompany('10');
    const receiver = await startReceiver();
    const created = await first.api(apiKey).post('/api/v1/webhooks', { url: receiver.url, events: ['activation.sms_received'] });
    assert.equal(created.status, 201);
    for (let i = 0; i < events; i++) {
      const { number } = (await first.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).body.data.activation;
      await first.api(provider.secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: `Telegram code: ${10000 + i}` });
    }
    return receiver;
  }

  it('refuses http:// even on loopback unless NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK is on', async () => {
    // Default configuration, on the database this suite already has open (a second server start is cheap).
    const strict = await startTestServer({ clock, database: shared.database });
    try {
      const { apiKey } = await strict.createCompany('1');
      const refused = await strict.api(apiKey).post('/api/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['balance.low'] });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /https:\/\//);
      // Over https too: loopback is no place for a webhook without the flag (webhook-addresses.test.ts).
      const loopback = await strict.api(apiKey).post('/api/v1/webhooks', { url: 'https://127.0.0.1:9/hook', events: ['balance.low'] });
      assert.equal(loopback.status, 400);
      assert.match(loopback.body.error.message, /loopback/);
      const accepted = await strict.api(apiKey).post('/api/v1/webhooks', { url: 'https://example.com:9/hook', events: ['balance.low'] });
      assert.equal(accepted.status, 201);
    } finally {
      await strict.close();
    }
  });

  it('does not send a delivered event again after the server restarts on the same database', async () => {
    const first = await startTestServer({ env, clock, database: shared.database });
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    try {
      receiver = await prepare(first, 1);
      await first.jobs.webhooks.runOnce();
      assert.equal(receiver.received.length, 1);
    } finally {
      await first.close();
    }
    const second = await startTestServer({ env, clock, database: shared.database });
    try {
      clock.advance(3600);
      await second.jobs.webhooks.runOnce();
      assert.equal(receiver.received.length, 1, 'the restarted server finds nothing left to send');
    } finally {
      await second.close();
      await receiver.close();
    }
  });

  it('delivers an event queued just before a restart from the next instance', async () => {
    const first = await startTestServer({ env, clock, database: shared.database });
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    try {
      receiver = await prepare(first, 1);
    } finally {
      // Stopped before its delivery job ran: the event lives only in the outbox table.
      await first.close();
    }
    assert.equal(receiver.received.length, 0);
    const second = await startTestServer({ env, clock, database: shared.database });
    try {
      await second.jobs.webhooks.runOnce();
      assert.equal(receiver.received.length, 1);
      assert.equal(receiver.received[0].json.type, 'activation.sms_received');
    } finally {
      await second.close();
      await receiver.close();
    }
  });

  it('sends every event exactly once when two instances run the delivery job at the same time', async () => {
    const one = await startTestServer({ env, clock, database: shared.database });
    const two = await startTestServer({ env, clock, database: shared.database });
    try {
      const receiver = await prepare(one, 6);
      clock.advance(1);
      await Promise.all([one.jobs.webhooks.runOnce(), two.jobs.webhooks.runOnce(), one.jobs.webhooks.runOnce(), two.jobs.webhooks.runOnce()]);
      const ids = receiver.received.map((r) => r.json.id);
      assert.equal(ids.length, 6);
      assert.equal(new Set(ids).size, 6);
      await receiver.close();
    } finally {
      await one.close();
      await two.close();
    }
  });
});
