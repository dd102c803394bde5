import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ApiResponse, type TestServer, startTestServer } from '../support/test-server.ts';

/**
 * The edge of the customer API: whatever a client sends — no key, a stale key, broken JSON,
 * wrong types, a huge body — the answer is the `{ ok: false, error: { code, message } }`
 * envelope with the status of its code, never a 500 and never a stack trace.
 */

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.close();
});

/** Asserts what holds for every answer of the API: the envelope, no 500, no stack trace. */
function assertEnvelope(response: ApiResponse): void {
  assert.notEqual(response.status, 500, `status 500: ${JSON.stringify(response.body)}`);
  assert.equal(typeof response.body, 'object', `not a JSON envelope: ${String(response.body)}`);
  assert.notEqual(response.body, null);
  assert.equal(typeof response.body.ok, 'boolean', `no ok flag: ${JSON.stringify(response.body)}`);
  const text = JSON.stringify(response.body);
  assert.doesNotMatch(text, /\bat .+:\d+:\d+|node_modules|\.ts:\d+|"stack"/, `looks like a stack trace: ${text}`);
}

/** Asserts an error envelope with `code` and `status`; returns the message for further checks. */
function assertError(response: ApiResponse, status: number, code: string): string {
  assertEnvelope(response);
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.ok, false);
  assert.equal(response.body.error.code, code);
  assert.equal(typeof response.body.error.message, 'string');
  assert.ok(response.body.error.message.length > 0, 'the error message is empty');
  return response.body.error.message;
}

function assertOk(response: ApiResponse, status = 200): void {
  assertEnvelope(response);
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.ok, true);
}

/** A raw POST with a JSON content type and the body exactly as given (not re-serialised). */
function postText(key: string, pathname: string, body: string | undefined, contentType = 'application/json') {
  return server.api().raw(pathname, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
    body,
  });
}

describe('unknown routes', () => {
  it('answers an unknown endpoint with a 404 not_found envelope, with or without a key', async () => {
    const { apiKey } = await server.createCompany();
    assertError(await server.api().get('/api/v1/no-such-thing'), 404, 'not_found');
    assertError(await server.api(apiKey).get('/api/v1/no-such-thing'), 404, 'not_found');
    assertError(await server.api(apiKey).post('/api/v1/balance', {}), 404, 'not_found');
    assertError(await server.api().get('/no-such-thing'), 404, 'not_found');
  });
});

describe('authentication', () => {
  it('refuses a request without an API key with 401 unauthorized', async () => {
    const message = assertError(await server.api().get('/api/v1/balance'), 401, 'unauthorized');
    assert.match(message, /Bearer/);
  });

  it('refuses a malformed Authorization header with 401 unauthorized', async () => {
    const { apiKey } = await server.createCompany();
    const client = server.api();
    for (const header of [`Basic ${apiKey}`, 'Bearer', 'Bearer ', `Bearer ${apiKey} extra`, apiKey, `Token ${apiKey}`]) {
      const response = await client.get('/api/v1/balance', { authorization: header });
      assertError(response, 401, 'unauthorized');
    }
  });

  it('refuses a key that does not exist with 401 unauthorized', async () => {
    const { apiKey } = await server.createCompany();
    // Same shape as a real key, one character changed.
    const wrong = apiKey.slice(0, -1) + (apiKey.endsWith('A') ? 'B' : 'A');
    assertError(await server.api(wrong).get('/api/v1/balance'), 401, 'unauthorized');
    assertError(await server.api('not-a-key').get('/api/v1/balance'), 401, 'unauthorized');
  });

  it('refuses a rotated key at once and accepts the new one', async () => {
    const { accountId, apiKey: oldKey } = await server.createCompany('3');
    assertOk(await server.api(oldKey).get('/api/v1/balance'));

    const newKey = await server.services.accounts.rotateApiKey(accountId);
    assert.notEqual(newKey, oldKey);

    assertError(await server.api(oldKey).get('/api/v1/balance'), 401, 'unauthorized');
    const balance = await server.api(newKey).get('/api/v1/balance');
    assertOk(balance);
    assert.equal(balance.body.data.balance, 3);
  });
});

describe('request bodies of POST /activations', () => {
  it('answers malformed JSON with 400 invalid_request', async () => {
    const { apiKey } = await server.createCompany('10');
    for (const body of ['{"service_code": "tg", "country_id": 6', '{service_code: tg}', 'null x', '[']) {
      const message = assertError(await postText(apiKey, '/api/v1/activations', body), 400, 'invalid_request');
      assert.match(message, /JSON/, `message for ${body}: ${message}`);
    }
  });

  it('answers a field of the wrong type with 400 invalid_request naming the field', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    const cases: [body: Record<string, unknown>, field: string][] = [
      [{ service_code: 'tg', country_id: '6' }, 'country_id'],
      [{ service_code: 'tg', country_id: 6.5 }, 'country_id'],
      [{ service_code: 7, country_id: 6 }, 'service_code'],
      [{ service_code: 'tg', country_id: 6, max_price: '1' }, 'max_price'],
    ];
    for (const [body, field] of cases) {
      const message = assertError(await api.post('/api/v1/activations', body), 400, 'invalid_request');
      assert.match(message, new RegExp(field), `message for ${JSON.stringify(body)}: ${message}`);
    }
  });

  it('answers a missing required field with 400 invalid_request naming the field', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    let message = assertError(await api.post('/api/v1/activations', { country_id: 6 }), 400, 'invalid_request');
    assert.match(message, /service_code/);
    message = assertError(await api.post('/api/v1/activations', { service_code: 'tg' }), 400, 'invalid_request');
    assert.match(message, /country_id/);
  });

  it('answers an unknown field with 400 invalid_request naming it, rather than ignoring it', async () => {
    const { apiKey } = await server.createCompany('10');
    const message = assertError(
      await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6, foo: 1 }),
      400,
      'invalid_request',
    );
    assert.match(message, /\bfoo\b/);
  });

  it('answers a body above 64 KiB with 413 payload_too_large', async () => {
    const { apiKey } = await server.createCompany('10');
    const huge = JSON.stringify({ service_code: 'tg', country_id: 6, operator: 'x'.repeat(70 * 1024) });
    assert.ok(huge.length > 64 * 1024);
    const message = assertError(await postText(apiKey, '/api/v1/activations', huge), 413, 'payload_too_large');
    assert.match(message, /64 KiB/);
  });

  it('answers a body that is not JSON with 415 unsupported_media_type', async () => {
    const { apiKey } = await server.createCompany('10');
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain', 'application/xml']) {
      const body = contentType === 'application/x-www-form-urlencoded' ? 'service_code=tg&country_id=6' : 'service_code: tg';
      const message = assertError(await postText(apiKey, '/api/v1/activations', body, contentType), 415, 'unsupported_media_type');
      assert.match(message, /application\/json/, `message for ${contentType}: ${message}`);
    }
  });

  it('treats a cancel with a JSON content type and an empty body like one without a body', async () => {
    const { apiKey } = await server.createCompany('10');
    await server.createProvider({ countryId: 6, count: 1 });
    const bought = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assertOk(bought, 201);
    const id = bought.body.data.activation.id;

    // Too early to cancel: the domain answers, not the JSON parser.
    assertError(await postText(apiKey, `/api/v1/activations/${id}/cancel`, ''), 409, 'too_early');
    assertError(await postText(apiKey, `/api/v1/activations/${id}/cancel`, undefined), 409, 'too_early');
    assertError(await postText(apiKey, `/api/v1/activations/${id}/complete`, ''), 409, 'invalid_state');
    // And an activation that is not there is a 404, with or without the header.
    assertError(await postText(apiKey, '/api/v1/activations/999999999/cancel', ''), 404, 'not_found');
  });
});

describe('paths and query strings', () => {
  it('answers an activation id that is not a positive integer with 400 invalid_request', async () => {
    const { apiKey } = await server.createCompany();
    const api = server.api(apiKey);
    for (const id of ['abc', '0', '-1', '1.5', '1e3x', '99999999999999999999']) {
      assertError(await api.get(`/api/v1/activations/${id}`), 400, 'invalid_request');
      assertError(await api.post(`/api/v1/activations/${id}/cancel`), 400, 'invalid_request');
    }
  });

  it('refuses a page larger than 100 with a message that says the maximum', async () => {
    const { apiKey } = await server.createCompany();
    const message = assertError(await server.api(apiKey).get('/api/v1/activations?limit=101'), 400, 'invalid_request');
    assert.match(message, /limit/);
    assert.match(message, /100/);
    assertOk(await server.api(apiKey).get('/api/v1/activations?limit=100'));
  });

  it('refuses a limit below 1, a negative offset and non-numbers with 400 invalid_request', async () => {
    const { apiKey } = await server.createCompany();
    const api = server.api(apiKey);
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['offset=-1', 'offset'],
      ['limit=ten', 'limit'],
      ['offset=1.5', 'offset'],
    ]) {
      const message = assertError(await api.get(`/api/v1/activations?${query}`), 400, 'invalid_request');
      assert.match(message, new RegExp(field), `message for ${query}: ${message}`);
    }
  });

  it('refuses an unknown status filter or query parameter with 400 invalid_request', async () => {
    const { apiKey } = await server.createCompany();
    const api = server.api(apiKey);
    let message = assertError(await api.get('/api/v1/activations?status=done'), 400, 'invalid_request');
    assert.match(message, /status/);
    // The message lists what is allowed, so the client can fix the request.
    for (const status of ['waiting', 'sms_received', 'completed', 'cancelled', 'expired']) assert.match(message, new RegExp(status));
    message = assertError(await api.get('/api/v1/activations?sort=id'), 400, 'invalid_request');
    assert.match(message, /sort/);
    const listed = await api.get('/api/v1/activations?status=waiting&limit=5&offset=0');
    assertOk(listed);
    assert.deepEqual(listed.body.data, { activations: [], total: 0, limit: 5, offset: 0 });
  });
});
