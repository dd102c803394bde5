import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { errorStatuses } from '../../src/http/errors.ts';
import { exampleOf } from '../../src/http/openapi.ts';
import { readFileSync } from 'node:fs';
import { openApiTypesFile, renderOpenApiTypes } from '../../packages/client/scripts/generate-openapi-types.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

// The OpenAPI document is untyped JSON from the wire; the test walks it as data.
type Json = Record<string, any>;

const methods = ['get', 'post', 'put', 'patch', 'delete'] as const;

describe('OpenAPI document', () => {
  let server: TestServer;
  let doc: Json;
  let validatorFor: (schema: Json) => (value: unknown) => string | null;

  /** Every operation of the document as [label, operation]. */
  function operations(): Array<[string, string, string, Json]> {
    const list: Array<[string, string, string, Json]> = [];
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const method of methods) if (item[method]) list.push([`${method.toUpperCase()} ${path}`, path, method, item[method]]);
    }
    return list;
  }

  function responseSchema(path: string, method: string, status: number): Json {
    const schema = doc.paths[path]?.[method]?.responses?.[String(status)]?.content?.['application/json']?.schema;
    assert.ok(schema, `${method.toUpperCase()} ${path} documents no ${status} response`);
    return schema;
  }

  before(async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/api/v1/openapi.json`);
    assert.equal(response.status, 200);
    doc = await response.json();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    // Error responses refer to the shared envelope: resolve #/components/… against the document.
    validatorFor = (schema) => {
      const validate = ajv.compile({ ...schema, components: doc.components });
      return (value) => (validate(value) ? null : ajv.errorsText(validate.errors));
    };
  });
  after(() => server.close());

  it('is served without an API key as OpenAPI 3.1 with the bearer scheme and this server', async () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
    assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
    assert.equal(doc.servers[0].url, server.url);
  });

  it('describes exactly the public API: every /api/v1 endpoint and nothing of the website', () => {
    const paths = Object.keys(doc.paths);
    const expected = [
      '/api/v1/balance',
      '/api/v1/services',
      '/api/v1/countries',
      '/api/v1/prices',
      '/api/v1/activations',
      '/api/v1/activations/{id}',
      '/api/v1/activations/{id}/cancel',
      '/api/v1/activations/{id}/complete',
      '/api/v1/activations/{id}/reuse',
      '/api/v1/activations/{id}/report',
      '/api/v1/rentals/prices',
      '/api/v1/rentals',
      '/api/v1/rentals/{id}',
      '/api/v1/rentals/{id}/extend',
      '/api/v1/rentals/{id}/cancel',
      '/api/v1/rentals/{id}/finish',
    ];
    for (const path of expected) assert.ok(paths.includes(path), `${path} is missing`);
    for (const path of paths) assert.ok(path.startsWith('/api/v1/'), `${path} is not part of the public API`);
    assert.ok(!paths.includes('/api/v1/openapi.json'));
  });

  it('documents every route the server answers under /api/v1, each method of it', () => {
    // The server's own route table (Fastify prints it as a tree of path segments, 4 columns a level).
    const routes: string[] = [];
    const prefixes: string[] = [];
    for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const match = /^([│ ]*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
      if (!match) continue;
      const depth = match[1].length / 4;
      const path = (prefixes[depth - 1] ?? '') + match[2];
      prefixes[depth] = path;
      prefixes.length = depth + 1;
      for (const method of match[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push(`${method} ${path}`);
    }
    assert.ok(routes.includes('POST /api/v1/rentals/:id/extend'), `the route table was not read: ${routes.slice(0, 5).join('; ')}`);
    const documented = new Set(operations().map(([label]) => label));
    const missing = routes
      .filter((route) => route.includes(' /api/v1/') && !route.endsWith(' /api/v1/openapi.json'))
      .map((route) => route.replace(/:(\w+)/g, '{$1}'))
      .filter((route) => !documented.has(route));
    assert.deepEqual(missing, []);
  });

  it('gives every endpoint a summary, a tag, a success schema and examples that match their schemas', () => {
    const problems: string[] = [];
    for (const [label, , , operation] of operations()) {
      if (!operation.summary) problems.push(`${label}: no summary`);
      if (!operation.tags?.length) problems.push(`${label}: no tag`);
      const successes = Object.entries<Json>(operation.responses ?? {}).filter(([status]) => status.startsWith('2'));
      if (successes.length === 0) problems.push(`${label}: no success response`);
      const media: Array<[string, Json | undefined]> = successes.map(([status, r]) => [`${status} response`, r.content?.['application/json']]);
      if (operation.requestBody) media.push(['request body', operation.requestBody.content?.['application/json']]);
      for (const [what, content] of media) {
        if (!content?.schema) {
          problems.push(`${label}: ${what} has no schema`);
          continue;
        }
        if (content.example === undefined) {
          const built = exampleOf(content.schema);
          problems.push(`${label}: ${what} has no example (${'missing' in built ? `no example for ${built.missing}` : 'none built'})`);
          continue;
        }
        const error = validatorFor(content.schema)(content.example);
        if (error) problems.push(`${label}: ${what} example does not match its schema: ${error}`);
      }
      for (const [status, response] of Object.entries<Json>(operation.responses ?? {})) {
        if (status.startsWith('2')) continue;
        const content = response.content?.['application/json'];
        const validate = validatorFor(content.schema);
        for (const [code, example] of Object.entries<Json>(content.examples ?? {})) {
          if (errorStatuses[code as keyof typeof errorStatuses] !== Number(status)) problems.push(`${label}: ${code} listed under ${status}`);
          const error = validate(example.value);
          if (error) problems.push(`${label}: ${status} example ${code}: ${error}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('documents the error envelope with every error code, and each route its codes under their status', () => {
    assert.deepEqual(doc.components.schemas.ErrorEnvelope.properties.error.properties.code.enum, Object.keys(errorStatuses));
    for (const code of Object.keys(errorStatuses)) assert.match(doc.info.description, new RegExp(`\`${code}\` \\| ${errorStatuses[code as keyof typeof errorStatuses]}`));
    const buy = doc.paths['/api/v1/activations'].post.responses;
    assert.ok(buy['402'].content['application/json'].examples.insufficient_balance);
    assert.deepEqual(Object.keys(buy['409'].content['application/json'].examples).sort(), ['idempotency_conflict', 'out_of_stock', 'price_above_max']);
    assert.ok(buy['429'].headers['retry-after']);
    assert.ok(buy['401'] && buy['400'] && buy['415'] && buy['413'] && buy['500']);
    const cancel = doc.paths['/api/v1/activations/{id}/cancel'].post.responses;
    assert.deepEqual(Object.keys(cancel['409'].content['application/json'].examples).sort(), ['invalid_state', 'too_early']);
    assert.ok(cancel['404'].content['application/json'].examples.not_found);
    const wait = doc.paths['/api/v1/activations/{id}'].get.parameters.find((p: Json) => p.name === 'wait');
    assert.equal(wait.in, 'query');
    assert.equal(wait.schema.maximum, 60);
  });

  it('documents the codes of reuse, report and the rental endpoints under their status', () => {
    const codesOf = (path: string, method: string, status: number) =>
      Object.keys(doc.paths[path][method].responses[String(status)]?.content['application/json'].examples ?? {}).sort();
    const expected: Array<[string, string, number, string[]]> = [
      ['/api/v1/activations/{id}/reuse', 'post', 409, ['idempotency_conflict', 'invalid_state', 'reuse_unavailable']],
      ['/api/v1/activations/{id}/reuse', 'post', 402, ['insufficient_balance']],
      ['/api/v1/activations/{id}/reuse', 'post', 404, ['not_found']],
      ['/api/v1/activations/{id}/report', 'post', 409, ['invalid_state']],
      ['/api/v1/activations/{id}/report', 'post', 404, ['not_found']],
      ['/api/v1/rentals/prices', 'get', 404, ['unknown_country']],
      ['/api/v1/rentals', 'post', 402, ['insufficient_balance']],
      ['/api/v1/rentals', 'post', 404, ['unknown_country']],
      ['/api/v1/rentals', 'post', 409, ['idempotency_conflict', 'out_of_stock']],
      ['/api/v1/rentals/{id}', 'get', 404, ['not_found']],
      ['/api/v1/rentals/{id}/extend', 'post', 402, ['insufficient_balance']],
      ['/api/v1/rentals/{id}/extend', 'post', 409, ['invalid_state', 'out_of_stock']],
      ['/api/v1/rentals/{id}/cancel', 'post', 409, ['invalid_state', 'too_late']],
      ['/api/v1/rentals/{id}/finish', 'post', 409, ['invalid_state']],
    ];
    for (const [path, method, status, codes] of expected) assert.deepEqual(codesOf(path, method, status), codes, `${method.toUpperCase()} ${path} ${status}`);
    for (const path of ['/api/v1/rentals/{id}/extend', '/api/v1/rentals/{id}/cancel', '/api/v1/rentals/{id}/finish']) {
      assert.deepEqual(codesOf(path, 'post', 404), ['not_found'], `${path} 404`);
    }
    for (const path of ['/api/v1/rentals', '/api/v1/activations/{id}/reuse']) {
      const key = doc.paths[path].post.parameters.find((p: Json) => p.name === 'idempotency-key');
      assert.equal(key?.in, 'header', `${path} takes an Idempotency-Key`);
    }
    const reason = doc.paths['/api/v1/activations/{id}/report'].post.requestBody.content['application/json'].schema.properties.reason;
    assert.deepEqual((reason.anyOf ?? reason.oneOf ?? []).map((option: Json) => option.const ?? option.enum?.[0]).sort(), ['blocked', 'no_sms', 'other', 'used']);
    const wait = doc.paths['/api/v1/rentals/{id}'].get.parameters.find((p: Json) => p.name === 'wait');
    assert.equal(wait.in, 'query');
    assert.equal(wait.schema.maximum, 60);
    const status = doc.paths['/api/v1/rentals'].get.parameters.find((p: Json) => p.name === 'status');
    assert.deepEqual((status.schema.anyOf ?? []).map((option: Json) => option.const ?? option.enum?.[0]).sort(), ['active', 'cancelled', 'expired', 'finished']);
  });

  it('types the SDK from this very document (run `npm run sdk:types` after changing a route schema)', async () => {
    const generated = await renderOpenApiTypes(doc);
    assert.ok(generated.includes('"/api/v1/activations/{id}"'));
    assert.equal(readFileSync(openApiTypesFile, 'utf8'), generated, 'packages/client/src/openapi-types.ts is out of date: run `npm run sdk:types`');
  });

  it('accepts the documented buy example as is and answers as documented', async () => {
    const { apiKey } = await server.createCompany('10');
    await server.createProvider({ countryId: 6, count: 1, operator: 'any' });
    const operation = doc.paths['/api/v1/activations'].post;
    const example = operation.requestBody.content['application/json'].example;
    const idempotencyKey = operation.parameters.find((p: Json) => p.name === 'idempotency-key').example;
    const bought = await server.api(apiKey).post('/api/v1/activations', example, { 'idempotency-key': idempotencyKey });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    assert.equal(validatorFor(responseSchema('/api/v1/activations', 'post', 201))(bought.body), null);
    // The documented example has the same shape as the real answer, field for field.
    const documented = operation.responses['201'].content['application/json'].example;
    assert.deepEqual(Object.keys(bought.body.data.activation).sort(), Object.keys(documented.data.activation).sort());

    const id = bought.body.data.activation.id;
    const reads: Array<[string, string, number, Promise<{ status: number; body: unknown }>]> = [
      ['/api/v1/activations/{id}', 'get', 200, server.api(apiKey).get(`/api/v1/activations/${id}`)],
      ['/api/v1/activations', 'get', 200, server.api(apiKey).get('/api/v1/activations?limit=5')],
      ['/api/v1/balance', 'get', 200, server.api(apiKey).get('/api/v1/balance')],
      ['/api/v1/services', 'get', 200, server.api(apiKey).get('/api/v1/services')],
      ['/api/v1/countries', 'get', 200, server.api(apiKey).get('/api/v1/countries')],
      ['/api/v1/prices', 'get', 200, server.api(apiKey).get('/api/v1/prices?service=tg&country=6')],
      ['/api/v1/activations/{id}/cancel', 'post', 409, server.api(apiKey).post(`/api/v1/activations/${id}/cancel`)],
      ['/api/v1/activations', 'post', 404, server.api(apiKey).post('/api/v1/activations', { service_code: 'nope', country_id: 6 })],
      ['/api/v1/balance', 'get', 401, server.api('wrong-key').get('/api/v1/balance')],
    ];
    for (const [path, method, status, pending] of reads) {
      const response = await pending;
      assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
      assert.equal(validatorFor(responseSchema(path, method, status))(response.body), null, `${method} ${path} answered off its documented schema`);
    }
  });

  it('documents an error answer the server really gives: a broke buyer gets the 402 example shape', async () => {
    const { apiKey } = await server.createCompany('0');
    const response = await server.api(apiKey).post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(response.status, 402);
    assert.equal(validatorFor(responseSchema('/api/v1/activations', 'post', 402))(response.body), null);
    // A code the route does not list under that status fails the documented schema.
    assert.notEqual(validatorFor(responseSchema('/api/v1/activations', 'post', 402))({ ok: false, error: { code: 'out_of_stock', message: 'x' } }), null);
  });

  /** Checks each answer against the schema documented for its route and status. */
  async function assertAnswersAsDocumented(checks: Array<[string, string, number, () => Promise<{ status: number; body: unknown }>]>) {
    for (const [path, method, status, send] of checks) {
      const response = await send();
      assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
      assert.equal(validatorFor(responseSchema(path, method, status))(response.body), null, `${method} ${path} ${status} answered off its documented schema`);
    }
  }

  it('accepts the documented rent example as is, and every rental endpoint answers as documented, errors included', async () => {
    const { apiKey } = await server.createCompany('10');
    const broke = await server.createCompany('0');
    const api = server.api(apiKey);
    await server.services.rentals.setPrice({ countryId: 6, pricePerHour: 2000, pricePerDay: 25_000 });
    const { secret } = await server.createProvider({ countryId: 6, count: 1, rentable: true });

    const operation = doc.paths['/api/v1/rentals'].post;
    const example = operation.requestBody.content['application/json'].example;
    const idempotencyKey = operation.parameters.find((p: Json) => p.name === 'idempotency-key').example;
    const rented = await api.post('/api/v1/rentals', example, { 'idempotency-key': idempotencyKey });
    assert.equal(rented.status, 201, JSON.stringify(rented.body));
    assert.equal(validatorFor(responseSchema('/api/v1/rentals', 'post', 201))(rented.body), null);
    const documented = operation.responses['201'].content['application/json'].example;
    assert.deepEqual(Object.keys(rented.body.data.rental).sort(), Object.keys(documented.data.rental).sort());
    const { id, number } = rented.body.data.rental;

    await assertAnswersAsDocumented([
      ['/api/v1/rentals/prices', 'get', 200, () => api.get('/api/v1/rentals/prices?country=6')],
      ['/api/v1/rentals/prices', 'get', 404, () => api.get('/api/v1/rentals/prices?country=99999')],
      ['/api/v1/rentals', 'get', 200, () => api.get('/api/v1/rentals?limit=5&status=active')],
      ['/api/v1/rentals', 'get', 400, () => api.get('/api/v1/rentals?status=waiting')],
      ['/api/v1/rentals', 'post', 409, () => api.post('/api/v1/rentals', { country_id: 6, hours: 1 })],
      ['/api/v1/rentals', 'post', 402, () => server.api(broke.apiKey).post('/api/v1/rentals', { country_id: 6, hours: 1 })],
      ['/api/v1/rentals', 'post', 404, () => api.post('/api/v1/rentals', { country_id: 99999, hours: 1 })],
      ['/api/v1/rentals', 'post', 409, () => api.post('/api/v1/rentals', { country_id: 6, hours: 2 }, { 'idempotency-key': idempotencyKey })],
      ['/api/v1/rentals', 'post', 400, () => api.post('/api/v1/rentals', { country_id: 6, hours: 0 })],
      ['/api/v1/rentals/{id}', 'get', 200, () => api.get(`/api/v1/rentals/${id}?wait=0`)],
      ['/api/v1/rentals/{id}', 'get', 404, () => api.get('/api/v1/rentals/999999')],
      ['/api/v1/rentals/{id}/extend', 'post', 200, () => api.post(`/api/v1/rentals/${id}/extend`, { hours: 1 })],
      ['/api/v1/rentals/{id}/extend', 'post', 402, () => api.post(`/api/v1/rentals/${id}/extend`, { hours: 720 })],
      ['/api/v1/rentals/{id}/extend', 'post', 404, () => server.api(broke.apiKey).post(`/api/v1/rentals/${id}/extend`, { hours: 1 })],
      ['/api/v1/rentals/{id}/cancel', 'post', 409, () => pushSms(secret, number).then(() => api.post(`/api/v1/rentals/${id}/cancel`))],
      ['/api/v1/rentals/{id}/cancel', 'post', 404, () => api.post('/api/v1/rentals/999999/cancel')],
      ['/api/v1/rentals/{id}/finish', 'post', 200, () => api.post(`/api/v1/rentals/${id}/finish`)],
      ['/api/v1/rentals/{id}/finish', 'post', 409, () => api.post(`/api/v1/rentals/${id}/finish`)],
      ['/api/v1/rentals/{id}/extend', 'post', 409, () => api.post(`/api/v1/rentals/${id}/extend`, { hours: 1 })],
      ['/api/v1/rentals/{id}/finish', 'post', 404, () => api.post('/api/v1/rentals/999999/finish')],
    ]);
    const rental = (await api.get(`/api/v1/rentals/${id}`)).body.data.rental;
    assert.equal(rental.messages.length, 1, 'the SMS reached the rental');
    assert.equal(rental.status, 'finished');
  });

  it('answers reuse and report as documented, errors included', async () => {
    const { apiKey } = await server.createCompany('10');
    const api = server.api(apiKey);
    await server.services.catalog.upsertCountry({ id: 961, name: 'Reuse land', iso: 'RU1', dialPrefix: '1' });
    await server.services.catalog.setPrice({ serviceCode: 'tg', countryId: 961, price: 5000 });
    const { secret } = await server.createProvider({ countryId: 961, count: 1 });
    const bought = (await api.post('/api/v1/activations', { service_code: 'tg', country_id: 961 })).body.data.activation;
    let reusedId = 0;

    await assertAnswersAsDocumented([
      ['/api/v1/activations/{id}/reuse', 'post', 409, () => api.post(`/api/v1/activations/${bought.id}/reuse`)],
      ['/api/v1/activations/{id}/reuse', 'post', 404, () => api.post('/api/v1/activations/999999/reuse')],
      [
        '/api/v1/activations/{id}/reuse',
        'post',
        201,
        async () => {
          await pushSms(secret, bought.number);
          await api.post(`/api/v1/activations/${bought.id}/complete`);
          const reused = await api.post(`/api/v1/activations/${bought.id}/reuse`, undefined, { 'idempotency-key': 'doc-reuse-1' });
          reusedId = reused.body.data?.activation?.id;
          return reused;
        },
      ],
      ['/api/v1/activations/{id}/reuse', 'post', 409, () => api.post(`/api/v1/activations/${bought.id}/reuse`)],
      ['/api/v1/activations/{id}/report', 'post', 200, () => api.post(`/api/v1/activations/${reusedId}/report`, { reason: 'no_sms', note: 'nothing came' })],
      ['/api/v1/activations/{id}/report', 'post', 409, () => api.post(`/api/v1/activations/${reusedId}/report`, { reason: 'used' })],
      ['/api/v1/activations/{id}/report', 'post', 400, () => api.post(`/api/v1/activations/${reusedId}/report`, { reason: 'spam' })],
      ['/api/v1/activations/{id}/report', 'post', 404, () => api.post('/api/v1/activations/999999/report', { reason: 'other' })],
    ]);
    const reused = (await api.get(`/api/v1/activations/${reusedId}`)).body.data.activation;
    assert.equal(reused.reused_from, bought.id);
  });

  function pushSms(secret: string, to: string) {
    return server.api(secret).post('/api/v1/supply/sms', { to, from: 'Telegram', text: `Telegram code: ${Math.floor(10_000 + Math.random() * 89_999)}` });
  }
});
