import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { openMarket, pushSms, rentOk } from './rental-support.ts';

// Webhooks to a loopback receiver; deliveries only when a test runs the job.
const env = { NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1', NOVA_WEBHOOK_INTERVAL_MS: '600000' };

interface Received {
  type: string;
  // The webhook body is untyped JSON from the wire; tests assert on its fields.
  data: any;
}

/** A real HTTP receiver on a loopback port, answering 200. */
async function startReceiver() {
  const received: Received[] = [];
  const receiver = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/nova`,
    received,
    close: () => {
      receiver.closeAllConnections();
      return new Promise<void>((resolve) => receiver.close(() => resolve()));
    },
  };
}

describe('rental webhooks', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    server = await startTestServer({ env });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await server?.close();
  });

  it('queues rental.message_received with the rental and the message, and rental.expired with every message', async () => {
    const countryId = await openMarket(server);
    const { secret } = await server.createProvider({ countryId, count: 1, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const created = await api.post('/api/v1/webhooks', { url: receiver.url, events: ['rental.message_received', 'rental.expired'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.data.webhook.events, ['rental.message_received', 'rental.expired']);
    const webhookId = created.body.data.webhook.id;

    const rental = await rentOk(api, countryId, 1);
    await pushSms(server, secret, rental.number, 'Telegram code: 53811');
    receiver.received.length = 0;
    await server.jobs.webhooks.runOnce();
    assert.equal(receiver.received.length, 1);
    const [message] = receiver.received;
    assert.equal(message.type, 'rental.message_received');
    assert.deepEqual(
      { id: message.data.rental.id, type: message.data.rental.type, status: message.data.rental.status, number: message.data.rental.number, messages: message.data.rental.messages },
      { id: rental.id, type: 'rent', status: 'active', number: rental.number, messages: undefined },
    );
    assert.deepEqual(
      { from: message.data.message.from, text: message.data.message.text, code: message.data.message.code },
      { from: 'Telegram', text: 'Telegram code: 53811', code: '53811' },
    );
    assert.equal(typeof message.data.message.id, 'number');

    server.clock.advance(3600);
    await server.jobs.rentalExpiry.runOnce();
    await server.jobs.webhooks.runOnce();
    assert.equal(receiver.received.length, 2);
    const expired = receiver.received[1];
    assert.equal(expired.type, 'rental.expired');
    assert.equal(expired.data.rental.id, rental.id);
    assert.equal(expired.data.rental.status, 'expired');
    assert.deepEqual(expired.data.rental.messages.map((m: { code: string }) => m.code), ['53811']);

    const deliveries = (await api.get(`/api/v1/webhooks/${webhookId}/deliveries`)).body.data.deliveries;
    assert.deepEqual(
      deliveries.map((d: { event: string; status: string }) => `${d.event}:${d.status}`),
      ['rental.expired:delivered', 'rental.message_received:delivered'],
    );
  });

  it('sends rental events only to endpoints subscribed to them, and nothing for a cancel or finish', async () => {
    const countryId = await openMarket(server);
    const { secret } = await server.createProvider({ countryId, count: 2, rentable: true });
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const activationsOnly = await api.post('/api/v1/webhooks', { url: receiver.url, events: ['activation.sms_received', 'activation.expired'] });
    assert.equal(activationsOnly.status, 201);

    const rental = await rentOk(api, countryId, 1);
    await pushSms(server, secret, rental.number, 'Code 101010');
    await api.post(`/api/v1/rentals/${rental.id}/finish`);
    const cancelled = await rentOk(api, countryId, 1);
    await api.post(`/api/v1/rentals/${cancelled.id}/cancel`);
    receiver.received.length = 0;
    await server.jobs.webhooks.runOnce();
    assert.deepEqual(receiver.received, []);
    const deliveries = (await api.get(`/api/v1/webhooks/${activationsOnly.body.data.webhook.id}/deliveries`)).body.data.deliveries;
    assert.deepEqual(deliveries, []);
  });

  it('refuses an unknown event name with 400', async () => {
    const { apiKey } = await server.createCompany('0');
    const refused = await server.api(apiKey).post('/api/v1/webhooks', { url: receiver.url, events: ['rental.created'] });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'invalid_request');
  });
});
