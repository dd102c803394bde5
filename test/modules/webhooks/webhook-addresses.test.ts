import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { refusedAddressReason } from '../../../src/modules/webhooks/webhook-address.ts';
import { createWebhookSender, type HostResolver } from '../../../src/modules/webhooks/webhook-sender.ts';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { signUp } from '../../web/web-client.ts';

/**
 * A webhook URL is chosen by a customer and fetched by our server: it must never reach this host,
 * a private network or a cloud metadata service, neither as registered nor after DNS resolution
 * at delivery time (no DNS rebinding), unless NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK lets loopback in.
 */

/** A loopback receiver that records every request it gets. */
async function startReceiver() {
  const received: { host: string | undefined; body: string }[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ host: request.headers.host, body });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The URL parser turns odd spellings of an IPv4 address into dotted form; each must be refused as what it is.
const refusedUrls: [url: string, reason: RegExp][] = [
  ['https://127.0.0.1/hook', /loopback/],
  ['https://127.8.9.10/hook', /loopback/],
  ['https://[::1]/hook', /loopback/],
  ['https://localhost/hook', /loopback/],
  ['https://hooks.localhost./hook', /loopback/],
  ['https://2130706433/hook', /loopback/], // 127.0.0.1 as one decimal number
  ['https://0x7f.0.0.1/hook', /loopback/], // hex
  ['https://0177.0.0.1/hook', /loopback/], // octal
  ['https://127.1/hook', /loopback/], // short form
  ['https://[::ffff:127.0.0.1]/hook', /loopback/], // IPv4-mapped IPv6
  ['https://[::ffff:7f00:1]/hook', /loopback/],
  ['https://10.1.2.3/hook', /private/],
  ['https://167772161/hook', /private/], // 10.0.0.1
  ['https://172.16.0.1/hook', /private/],
  ['https://172.31.255.254/hook', /private/],
  ['https://192.168.1.1/hook', /private/],
  ['https://100.64.0.1/hook', /private/], // carrier-grade NAT
  ['https://100.127.255.254/hook', /private/],
  ['https://[fc00::1]/hook', /private/],
  ['https://[fd12:3456:789a::1]/hook', /private/],
  ['https://[::ffff:10.0.0.1]/hook', /private/],
  ['https://[::ffff:c0a8:101]/hook', /private/], // ::ffff:192.168.1.1
  ['https://169.254.169.254/latest/meta-data/', /link-local/], // the cloud metadata service
  ['https://169.254.1.1/hook', /link-local/],
  ['https://[fe80::1]/hook', /link-local/],
  ['https://[::ffff:169.254.169.254]/hook', /link-local/],
  ['https://[64:ff9b::a9fe:a9fe]/hook', /link-local/], // NAT64 of 169.254.169.254
  ['https://[2002:a9fe:a9fe::1]/hook', /link-local/], // 6to4 of 169.254.169.254
  ['https://0.0.0.0/hook', /reserved/],
  ['https://0/hook', /reserved/], // 0.0.0.0
  ['https://0.1.2.3/hook', /reserved/],
  ['https://[::]/hook', /reserved/],
  ['https://224.0.0.1/hook', /reserved/],
];

// Two instances on one database: one with NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK (a development setup),
// one without (the product default). Deliveries are sent when a test runs the job.
let lenient: TestServer;
let strict: TestServer;
before(async () => {
  lenient = await startTestServer({ env: { NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK: '1', NOVA_WEBHOOK_INTERVAL_MS: '600000' } });
  strict = await startTestServer({ database: lenient.database, clock: lenient.clock, env: { NOVA_WEBHOOK_INTERVAL_MS: '600000' } });
});
after(async () => {
  await strict?.close();
  await lenient?.close();
});

describe('webhook URLs: registration', () => {

  it('refuses loopback, private, link-local, metadata and reserved addresses in every spelling with 400 invalid_request', async () => {
    const { apiKey } = await strict.createCompany('1');
    const api = strict.api(apiKey);
    for (const [url, reason] of refusedUrls) {
      const refused = await api.post('/api/v1/webhooks', { url, events: ['balance.low'] });
      assert.equal(refused.status, 400, `${url} was accepted: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error.code, 'invalid_request', url);
      assert.match(refused.body.error.message, reason, url);
      assert.match(refused.body.error.message, /public internet addresses only/, url);
    }
    assert.deepEqual((await api.get('/api/v1/webhooks')).body.data.webhooks, [], 'nothing was registered');
  });

  it('accepts public names and addresses, IPv4 and IPv6', async () => {
    const { apiKey } = await strict.createCompany('1');
    for (const url of ['https://example.com/hook', 'https://93.184.215.14/hook', 'https://[2606:4700:4700::1111]/hook', 'https://172.32.0.1/hook', 'https://100.128.0.1/hook']) {
      const created = await strict.api(apiKey).post('/api/v1/webhooks', { url, events: ['balance.low'] });
      assert.equal(created.status, 201, `${url}: ${JSON.stringify(created.body)}`);
    }
  });

  it('refuses them on the website too', async () => {
    const { client } = await signUp(strict);
    const refused = await client.post('/webhooks', { url: 'https://169.254.169.254/latest/meta-data/', events: ['balance.low'] });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /link-local/);
  });

  it('with NOVA_WEBHOOKS_ALLOW_HTTP_LOOPBACK, lets loopback in (http too) but still refuses private and metadata addresses', async () => {
    const { apiKey } = await lenient.createCompany('1');
    const api = lenient.api(apiKey);
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'https://localhost:9/hook', 'http://[::1]:9/hook']) {
      assert.equal((await api.post('/api/v1/webhooks', { url, events: ['balance.low'] })).status, 201, url);
    }
    for (const url of ['https://10.0.0.1/hook', 'https://169.254.169.254/', 'http://192.168.1.1/hook', 'http://example.com/hook']) {
      assert.equal((await api.post('/api/v1/webhooks', { url, events: ['balance.low'] })).status, 400, url);
    }
  });
});

describe('webhook URLs: delivery', () => {
  it('refuses at delivery a name that resolves to loopback: the outbox row says why and no request reaches the receiver', async () => {
    const receiver = await startReceiver();
    // Registered on the instance with the flag on, delivered by the one without it.
    try {
      await lenient.createProvider({ count: 1 });
      const company = await lenient.createCompany('1.2');
      const api = lenient.api(company.apiKey);
      const created = await api.post('/api/v1/webhooks', { url: `http://localhost:${receiver.port}/hook`, events: ['balance.low'] });
      assert.equal(created.status, 201);
      // 1.20 → 0.70: crosses the 1.00 threshold, one balance.low delivery is due.
      assert.equal((await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 })).status, 201);

      assert.equal(await strict.jobs.webhooks.runOnce(), 1);
      assert.equal(receiver.received.length, 0, 'a request reached the loopback receiver');
      const [delivery] = (await api.get(`/api/v1/webhooks/${created.body.data.webhook.id}/deliveries`)).body.data.deliveries;
      assert.equal(delivery.status, 'pending', 'retried later like any failure (its DNS may change back)');
      assert.equal(delivery.attempts, 1);
      assert.equal(delivery.last_response_code, null);
      assert.match(delivery.last_error, /^refused: localhost .*loopback.*public internet addresses only/);

      // The same delivery from the instance that allows loopback does reach it (the receiver works).
      lenient.clock.advance(11);
      await lenient.jobs.webhooks.runOnce();
      assert.equal(receiver.received.length, 1);
    } finally {
      await receiver.close();
    }
  });

  it('resolves a name once and connects to the address it checked, with the name as Host', async () => {
    const receiver = await startReceiver();
    try {
      const lookups: string[] = [];
      // A rebinding name: the first answer is this host's loopback, any later one another address.
      const rebinding: HostResolver = async (hostname) => {
        lookups.push(hostname);
        return [{ address: lookups.length === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
      };
      const sender = createWebhookSender({ allowLoopback: true, timeoutMs: 2000, resolve: rebinding });
      const result = await sender.post({ url: `http://hooks.customer.example:${receiver.port}/nova`, headers: { 'content-type': 'application/json' }, body: '{"ping":1}' });
      assert.deepEqual(result, { status: 200 });
      assert.deepEqual(lookups, ['hooks.customer.example'], 'resolved exactly once');
      assert.deepEqual(receiver.received, [{ host: `hooks.customer.example:${receiver.port}`, body: '{"ping":1}' }]);

      // Of several answers, the one that passes the check is the one connected to.
      const mixed: HostResolver = async () => [
        { address: '10.0.0.1', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ];
      const picked = await createWebhookSender({ allowLoopback: true, timeoutMs: 2000, resolve: mixed }).post({
        url: `http://hooks.customer.example:${receiver.port}/nova`,
        headers: {},
        body: '{}',
      });
      assert.deepEqual(picked, { status: 200 });
      assert.equal(receiver.received.length, 2);
    } finally {
      await receiver.close();
    }
  });

  it('refuses a name that resolves only to refused addresses, without connecting', async () => {
    const receiver = await startReceiver();
    try {
      const toLoopback: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
      const refused = await createWebhookSender({ allowLoopback: false, timeoutMs: 2000, resolve: toLoopback }).post({
        url: `https://hooks.customer.example:${receiver.port}/nova`,
        headers: {},
        body: '{}',
      });
      assert.deepEqual(refused, {
        error: 'refused: hooks.customer.example resolves to 127.0.0.1, which is a loopback address (this server); webhooks are sent to public internet addresses only',
      });
      const toMetadata: HostResolver = async () => [{ address: '::ffff:169.254.169.254', family: 6 }];
      const metadata = await createWebhookSender({ allowLoopback: true, timeoutMs: 2000, resolve: toMetadata }).post({ url: 'https://metadata.customer.example/', headers: {}, body: '{}' });
      assert.match('error' in metadata ? metadata.error : '', /link-local/);
      assert.equal(receiver.received.length, 0);
    } finally {
      await receiver.close();
    }
  });
});

describe('address classes', () => {
  it('judges each address by its range, IPv4-mapped and NAT64 forms by the IPv4 inside', () => {
    const strict = { allowLoopback: false };
    const table: [string, string | null][] = [
      ['8.8.8.8', null],
      ['2606:4700:4700::1111', null],
      ['127.0.0.1', 'a loopback address (this server)'],
      ['::1', 'a loopback address (this server)'],
      ['10.255.255.255', 'a private network address'],
      ['100.63.255.255', null],
      ['100.64.0.0', 'a private network address'],
      ['172.15.255.255', null],
      ['fe80::abcd', 'a link-local address (cloud metadata services live there)'],
      ['::ffff:8.8.8.8', null],
      ['64:ff9b::808:808', null],
      ['64:ff9b::7f00:1', 'a loopback address (this server) (127.0.0.1, embedded in 64:ff9b::7f00:1)'],
    ];
    for (const [address, expected] of table) assert.equal(refusedAddressReason(address, strict), expected, address);
    assert.equal(refusedAddressReason('127.0.0.1', { allowLoopback: true }), null);
    assert.equal(refusedAddressReason('::ffff:127.0.0.1', { allowLoopback: true }), null);
    assert.equal(refusedAddressReason('10.0.0.1', { allowLoopback: true }), 'a private network address');
  });
});
