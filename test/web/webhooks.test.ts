import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/test-server.ts';
import { freshEmail, signUp, webClient } from './web-client.ts';

describe('website webhooks', () => {
  let server: TestServer;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: { event: string; id: string }[] = [];

  before(async () => {
    // The delivery timer never fires on its own here: the test runs the job when it wants.
    server = await startTestServer({ env: { NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1', NOVA_WEBHOOK_INTERVAL_MS: '600000' } });
    receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        received.push({ event: json.type, id: json.id });
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  });

  after(async () => {
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    await server?.close();
  });

  it('an owner adds an endpoint, sees its deliveries, resends one and deletes it; a member gets 403 and CSRF is required', async () => {
    const { client: owner } = await signUp(server);
    await owner.post('/topup', { amount: 10 });

    const withoutCsrf = await owner.post('/webhooks', { url: receiverUrl, events: ['activation.sms_received'] }, { 'x-csrf-token': 'wrong' });
    assert.equal(withoutCsrf.status, 403);
    assert.equal(withoutCsrf.body.error.code, 'forbidden');
    assert.equal((await owner.post('/webhooks', { url: 'http://example.com/hook', events: ['balance.low'] })).status, 400, 'https only (loopback aside)');

    const created = await owner.post('/webhooks', { url: receiverUrl, events: ['activation.sms_received', 'balance.low'], balance_low_threshold: 2.5 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const webhook = created.body.data.webhook;
    assert.match(webhook.secret, /^whsec_/);
    assert.deepEqual([webhook.url, webhook.events, webhook.balance_low_threshold], [receiverUrl, ['activation.sms_received', 'balance.low'], 2.5]);

    const list = await owner.get('/webhooks');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.webhooks.map((w: { id: number }) => w.id), [webhook.id]);
    assert.equal(list.body.data.webhooks[0].secret, undefined, 'the secret is shown only once');

    // A code arrives: the endpoint gets activation.sms_received.
    const { secret: providerSecret } = await server.createProvider({ countryId: 6, count: 1 });
    const bought = await owner.post('/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201);
    await server.api(providerSecret).post('/api/v1/supply/sms', { to: bought.body.data.activation.number, from: 'Telegram', text: 'Telegram code: 12345' });
    await server.jobs.webhooks.runOnce();
    const deliveries = await owner.get(`/webhooks/${webhook.id}/deliveries`);
    assert.equal(deliveries.status, 200);
    const [delivery] = deliveries.body.data.deliveries;
    assert.deepEqual(
      [delivery.event, delivery.status, delivery.attempts, delivery.last_response_code],
      ['activation.sms_received', 'delivered', 1, 200],
    );
    assert.deepEqual(received, [{ event: 'activation.sms_received', id: delivery.event_id }]);

    const resent = await owner.post(`/webhooks/deliveries/${delivery.id}/resend`);
    assert.equal(resent.status, 201);
    assert.equal(resent.body.data.delivery.resend_of, delivery.id);
    await server.jobs.webhooks.runOnce();
    assert.deepEqual(received.map((r) => r.id), [delivery.event_id, delivery.event_id], 'the same event again');
    assert.equal((await owner.get(`/webhooks/${webhook.id}/deliveries`)).body.data.deliveries.length, 2);

    // Members manage no webhooks, whether through the website or with their own key.
    const invited = await owner.post('/team/invites', { email: freshEmail('member'), role: 'member' });
    const member = webClient(server.url);
    await member.start();
    await member.post('/invites/accept', { token: new URL(invited.body.data.invite_url).searchParams.get('token'), password: 'member password 1' });
    for (const answer of [
      await member.get('/webhooks'),
      await member.post('/webhooks', { url: receiverUrl, events: ['balance.low'] }),
      await member.get(`/webhooks/${webhook.id}/deliveries`),
      await member.post(`/webhooks/deliveries/${delivery.id}/resend`),
      await member.post(`/webhooks/${webhook.id}/delete`),
    ]) {
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, 'forbidden');
    }

    // Another company's owner cannot see or delete it.
    const { client: stranger } = await signUp(server);
    assert.equal((await stranger.get(`/webhooks/${webhook.id}/deliveries`)).status, 404);
    assert.equal((await stranger.post(`/webhooks/${webhook.id}/delete`)).status, 404);

    const deleted = await owner.post(`/webhooks/${webhook.id}/delete`);
    assert.deepEqual(deleted.body.data, { deleted: true, id: webhook.id });
    assert.deepEqual((await owner.get('/webhooks')).body.data.webhooks, []);
  });
});
