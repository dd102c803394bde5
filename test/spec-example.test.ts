import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { formatApiTime } from '../src/time-format.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * The published contract's examples, checked against the real server: the curl command is taken
 * from the spec text itself and run with curl, and every reply is compared with the spec's
 * example JSON (same keys, same JSON types) as well as with the values this setup must produce.
 */
const root = path.resolve(import.meta.dirname, '..');
const specPath = path.resolve(root, '../shared/spec/nova-sms-api-v1.txt');
const curlPath = '/usr/bin/curl';

// The spec's example lines as published, for a checkout without ../shared beside it.
const embeddedSpecExcerpt = `GET/balance

Your company balance.

{ "ok": true, "data": { "balance": 14.0912, "currency": "USD" } }

GET/prices?service=tg&country=6

Current price and availability for a service in a country.

{ "ok": true, "data": { "service": "tg", "country": 6, "price": 0.50, "available": 240, "in_stock": true } }
POST/activations

Buy a number. Body: service_code, country_id, optional operator.

curl -X POST -H "Authorization: Bearer YOUR_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"service_code":"tg","country_id":6}' \\
  https://nova-sms.com/api/v1/activations

{ "ok": true, "data": { "activation": {
  "id": 123, "type": "sms", "number": "+1202...", "service": "tg",
  "country": 6, "price": 0.50, "status": "waiting",
  "code": null, "expires_at": "2026-06-02 10:20:00" } } }
GET/activations/{id}

Poll for the SMS code. status becomes sms_received and code is filled when a message arrives.

{ "ok": true, "data": { "activation": { "id": 123, "status": "sms_received", "code": "123456", "text": "Your code is 123456" } } }
`;

const specText = existsSync(specPath) ? readFileSync(specPath, 'utf8') : embeddedSpecExcerpt;

function fromSpec(pattern: RegExp, what: string): string {
  const match = pattern.exec(specText);
  assert.ok(match, `the spec (${existsSync(specPath) ? specPath : 'embedded copy'}) has no ${what}`);
  return match[0];
}

const spec = {
  curl: fromSpec(/^curl [\s\S]*?https:\/\/nova-sms\.com\/api\/v1\/activations$/m, 'curl example for POST /activations'),
  balance: JSON.parse(fromSpec(/^\{ "ok": true, "data": \{ "balance".*$/m, 'GET /balance example')),
  prices: JSON.parse(fromSpec(/^\{ "ok": true, "data": \{ "service".*$/m, 'GET /prices example')),
  bought: JSON.parse(fromSpec(/^\{ "ok": true, "data": \{ "activation": \{\n[\s\S]*?\} \} \}$/m, 'POST /activations reply example')),
  polled: JSON.parse(fromSpec(/^\{ "ok": true, "data": \{ "activation": \{ "id".*$/m, 'GET /activations/{id} example')),
};

function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/**
 * `actual` has every key of the spec's `example` with the same JSON type, recursively; with
 * `exact`, no other keys either (extra activation fields such as created_at are allowed).
 */
function assertSpecShape(actual: unknown, example: unknown, exact: (keyPath: string) => boolean, keyPath = '$'): void {
  assert.equal(jsonType(actual), jsonType(example), `${keyPath} is a ${jsonType(example)} in the spec`);
  if (jsonType(example) !== 'object') return;
  const a = actual as Record<string, unknown>;
  const e = example as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    assert.ok(key in a, `${keyPath}.${key} is in the spec's example`);
    assertSpecShape(a[key], e[key], exact, `${keyPath}.${key}`);
  }
  if (exact(keyPath)) assert.deepEqual(Object.keys(a).sort(), Object.keys(e).sort(), `${keyPath} has exactly the spec's keys`);
}

const everywhere = () => true;
/** Activations carry more fields than the spec's short examples show; the envelopes do not. */
const exceptActivation = (keyPath: string) => !keyPath.endsWith('.activation');

const apiTime = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

describe("the spec's GET /balance and GET /prices examples", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    // The example's stock (240 US numbers), so the reply can be the example itself.
    await server.createProvider({ countryId: 6, count: spec.prices.data.available });
  });
  after(() => server.close());

  it('answers GET /balance as { balance, currency: "USD" } with the balance as a JSON number', async () => {
    const { apiKey } = await server.createCompany(String(spec.balance.data.balance));
    const reply = await server.api(apiKey).get('/api/v1/balance');
    assert.equal(reply.status, 200);
    assertSpecShape(reply.body, spec.balance, everywhere);
    assert.deepEqual(reply.body, spec.balance, 'with the same balance, the reply is the example itself');
  });

  it('answers GET /prices?service=tg&country=6 as { service, country, price, available, in_stock } with real stock', async () => {
    const { apiKey } = await server.createCompany('0');
    const reply = await server.api(apiKey).get('/api/v1/prices?service=tg&country=6');
    assert.equal(reply.status, 200);
    assertSpecShape(reply.body, spec.prices, everywhere);
    assert.deepEqual(reply.body, spec.prices, 'with that stock, the reply is the example itself');
  });
});

describe("the spec's POST /activations and GET /activations/{id} examples", () => {
  let server: TestServer;
  let provider: { secret: string; numbers: string[] };
  before(async () => {
    server = await startTestServer();
    provider = await server.createProvider({ countryId: 6, count: 10 });
  });
  after(() => server.close());

  it(
    'buys a number with the curl command from the spec, verbatim but for the base URL and key',
    { skip: existsSync(curlPath) ? false : `${curlPath} is not installed` },
    async () => {
      const { apiKey } = await server.createCompany('10');
      assert.ok(spec.curl.includes('YOUR_KEY') && spec.curl.includes('https://nova-sms.com/api/v1'));
      const command = spec.curl.replaceAll('https://nova-sms.com/api/v1', `${server.url}/api/v1`).replaceAll('YOUR_KEY', apiKey);
      const purchasedAt = server.clock.now();
      const { stdout } = await promisify(execFile)('bash', ['-c', command], {
        env: { ...process.env, PATH: `${path.dirname(curlPath)}:${process.env.PATH ?? ''}` },
        timeout: 30_000,
      });
      const reply = JSON.parse(stdout);

      assertSpecShape(reply, spec.bought, exceptActivation);
      assert.equal(reply.ok, true);
      const activation = reply.data.activation;
      assert.ok(Number.isSafeInteger(activation.id) && activation.id > 0);
      assert.equal(activation.type, 'sms');
      assert.match(activation.number, /^\+1\d{10}$/);
      assert.ok(provider.numbers.includes(activation.number));
      assert.equal(activation.service, 'tg');
      assert.equal(activation.country, 6);
      assert.equal(activation.price, 0.5);
      assert.match(stdout, /"price":0\.5[,}]/, 'the price is a JSON number, not a string');
      assert.equal(activation.status, 'waiting');
      assert.equal(activation.code, null);
      assert.match(activation.expires_at, apiTime);
      // The spec's default lifetime: 20 minutes from the purchase, in UTC.
      assert.equal(activation.expires_at, formatApiTime(new Date(purchasedAt.getTime() + 20 * 60_000)));

      // The purchase is real: charged once and visible to the key.
      assert.equal((await server.api(apiKey).get('/api/v1/balance')).body.data.balance, 9.5);
      assert.equal((await server.api(apiKey).get(`/api/v1/activations/${activation.id}`)).body.data.activation.number, activation.number);
    },
  );

  it('shows status sms_received, the code and the text once "Your code is 123456" arrives', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201);
    const { id, number } = bought.body.data.activation;

    const waiting = await api.get(`/api/v1/activations/${id}`);
    assert.equal(waiting.body.data.activation.status, 'waiting');
    assert.equal(waiting.body.data.activation.code, null);

    const delivered = await server.api(provider.secret).post('/api/v1/supply/sms', { to: number, from: 'Telegram', text: 'Your code is 123456' });
    assert.equal(delivered.status, 200);

    const polled = await api.get(`/api/v1/activations/${id}`);
    assert.equal(polled.status, 200);
    assertSpecShape(polled.body, spec.polled, exceptActivation);
    const { activation } = polled.body.data;
    assert.deepEqual(
      { id: activation.id, status: activation.status, code: activation.code, text: activation.text },
      { ...spec.polled.data.activation, id },
      'the example itself, with this activation id',
    );
  });
});
