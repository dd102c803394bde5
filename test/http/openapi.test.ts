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
    for (const expected of ['/api/v1/balance', '/api/v1/services', '/api/v1/countries', '/api/v1/prices', '/api/v1/activations', '/api/v1/activations/{id}', '/api/v1/activations/{id}/cancel', '/api/v1/activations/{id}/complete']) {
      assert.ok(paths.includes(expected), `${expected} is missing`);
    }
    for (const path of paths) assert.ok(path.startsWith('/api/v1/'), `${path} is not part of the public API`);
    assert.ok(!paths.includes('/api/v1/openapi.json'));
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
});
