import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { type ErrorCode, errorStatuses } from './errors.ts';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * The error codes this route answers with besides the ones every route of its kind has
     * (see `commonErrors`); the OpenAPI document lists them under their HTTP status.
     */
    errors?: readonly ErrorCode[];
  }
}

/** The public API's prefix; only routes under it go into the OpenAPI document. */
export const publicApiPrefix = '/api/v1/';
export const openApiPath = '/api/v1/openapi.json';

// JSON Schema as plain data (a boundary): the document is built from the route schemas, whose
// keywords are open-ended, so `any` here is deliberate.
type JsonSchema = Record<string, any>;

const errorMessages: Record<ErrorCode, string> = {
  unauthorized: 'Invalid or revoked API key; find your current key under Profile → API access',
  rate_limited: 'Too many requests for this API key; retry in 1 s',
  insufficient_balance: 'Balance 0.2000 USD is below the price 0.5000 USD; top up on the website',
  out_of_stock: 'No numbers left for service "tg" in country 6; try again later',
  not_found: 'Activation 123 not found for this API key',
  invalid_state: 'Activation 123 is completed; only a waiting activation can be cancelled',
  too_early: 'Activation 123 can be cancelled from 2026-06-02 10:03:00',
  invalid_request: 'body.country_id must be integer',
  unknown_service: 'Unknown service "xx"; see GET /api/v1/services',
  unknown_country: 'Unknown country 999; see GET /api/v1/countries',
  price_above_max: 'The price 0.5000 USD is above your max_price 0.4000 USD',
  idempotency_conflict: 'Idempotency-Key "k1" was already used for a different purchase (activation 123)',
  forbidden: 'This API key may not do that',
  https_required: 'This API is served over HTTPS only: call it with an https:// URL',
  account_blocked: 'Your company account is blocked; contact Nova SMS support (Chat with us on the website) to restore access',
  conflict: 'That already exists',
  too_late: 'Rental 45 received an SMS; it can no longer be cancelled for a refund (finish it instead)',
  reuse_unavailable: 'Number +12025550123 is in another activation now; it cannot be reused for activation 123',
  payload_too_large: 'The request body is too large; send at most 64 KiB of JSON',
  uri_too_long: 'The request URL is too long; send long values in a JSON body',
  headers_too_large: 'The request headers are too large (at most 16 KiB); check the Authorization and Cookie headers',
  request_timeout: 'The request did not arrive in time; send it again',
  unsupported_media_type: 'Send the request body as JSON with Content-Type: application/json',
  method_not_allowed: 'Method not allowed on this endpoint',
  internal: 'Something went wrong on our side; quote request id 5b0c… to support',
  unavailable: 'The service is briefly unavailable; retry in a few seconds',
};

/** The `{ ok: false, error }` envelope, as a component every error response refers to. */
export const errorEnvelopeComponent: JsonSchema = {
  type: 'object',
  required: ['ok', 'error'],
  properties: {
    ok: { const: false },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(errorStatuses), description: 'Stable, machine-readable; see the table in the description' },
        message: { type: 'string', description: 'For the human reading it: what went wrong and what to do' },
      },
    },
  },
};

/** Errors every route of a kind can answer with, derived from what the route takes. */
function commonErrors(url: string, schema: FastifySchema): ErrorCode[] {
  const codes: ErrorCode[] = ['unauthorized'];
  // Customer keys (not providers' supply secrets) belong to a company staff can block.
  if (!url.startsWith('/api/v1/supply/')) codes.push('rate_limited', 'account_blocked');
  if (schema.body || schema.querystring || schema.params || schema.headers) codes.push('invalid_request');
  if (schema.body) codes.push('payload_too_large', 'unsupported_media_type');
  codes.push('internal');
  return codes;
}

/** One OpenAPI response per HTTP status, each naming its codes with an example apiece. */
function errorResponses(codes: ErrorCode[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = errorStatuses[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, JsonSchema> = {};
  for (const [status, statusCodes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const response: JsonSchema = {
      description: `Error: ${statusCodes.join(', ')}`,
      content: {
        'application/json': {
          schema: {
            allOf: [{ $ref: '#/components/schemas/ErrorEnvelope' }],
            properties: { error: { type: 'object', properties: { code: { type: 'string', enum: statusCodes } } } },
          },
          examples: Object.fromEntries(
            statusCodes.map((code) => [code, { value: { ok: false, error: { code, message: errorMessages[code] } } }]),
          ),
        },
      },
    };
    if (status === 429) {
      response.headers = {
        'retry-after': { type: 'integer', description: 'Seconds to wait before retrying' },
        'x-ratelimit-remaining': { type: 'integer', description: 'Requests this key may still send before a 429: what is left of the per-second rate plus the burst allowance' },
      };
    }
    responses[String(status)] = response;
  }
  return responses;
}

/**
 * An example value built from a schema's own examples (`examples`, `const`, `enum`, `default`),
 * so a route's documented example is never written twice. Returns `missing` with the path of
 * the first required value that has no example: a schema must give one for each leaf.
 */
export function exampleOf(schema: JsonSchema, path = '$'): { value: unknown } | { missing: string } {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return { value: schema.examples[0] };
  if ('example' in schema) return { value: schema.example };
  if ('const' in schema) return { value: schema.const };
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return { value: schema.enum[0] };
  if (schema.default !== undefined) return { value: schema.default };
  const branches: JsonSchema[] | undefined = schema.anyOf ?? schema.oneOf;
  if (branches) {
    // Prefer a real value over null in a nullable field.
    const ordered = [...branches.filter((b) => b.type !== 'null'), ...branches.filter((b) => b.type === 'null')];
    let firstMissing: { missing: string } | undefined;
    for (const branch of ordered) {
      const result = exampleOf(branch, path);
      if ('value' in result) return result;
      firstMissing ??= result;
    }
    return firstMissing ?? { missing: path };
  }
  if (schema.type === 'null') return { value: null };
  if (schema.type === 'object' || schema.properties) {
    const required = new Set<string>(schema.required ?? []);
    const value: Record<string, unknown> = {};
    for (const [key, property] of Object.entries<JsonSchema>(schema.properties ?? {})) {
      const result = exampleOf(property, `${path}.${key}`);
      if ('value' in result) value[key] = result.value;
      else if (required.has(key)) return result;
    }
    return { value };
  }
  if (schema.type === 'array') {
    if (!schema.items) return { missing: `${path}[]` };
    const item = exampleOf(schema.items, `${path}[]`);
    return 'value' in item ? { value: [item.value] } : item;
  }
  return { missing: path };
}

/** Puts a built example on a request or response schema that has none of its own. */
function withExample(schema: JsonSchema): JsonSchema {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema;
  const result = exampleOf(schema);
  // A schema without examples stays without: the OpenAPI test names the route and the field.
  return 'value' in result ? { ...schema, examples: [result.value] } : schema;
}

/**
 * Registers @fastify/swagger (must run before the routes are added) and serves the OpenAPI 3.1
 * document of the public API at /api/v1/openapi.json, without authentication. Only routes under
 * /api/v1/ are described: the website's private API and the health check are not part of it.
 */
export async function registerOpenApi(app: FastifyInstance) {
  const codeTable = Object.entries(errorStatuses)
    .map(([code, status]) => `| \`${code}\` | ${status} |`)
    .join('\n');
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Nova SMS API',
        version: '1.0.0',
        description:
          'Temporary phone numbers for receiving SMS verification codes. Every answer is JSON: ' +
          '`{ "ok": true, "data": … }` on success, `{ "ok": false, "error": { "code", "message" } }` on failure. ' +
          'Money is in USD. Times are UTC, formatted "YYYY-MM-DD HH:MM:SS".\n\n' +
          `Error codes and their HTTP status:\n\n| code | status |\n|---|---|\n${codeTable}\n`,
      },
      // Replaced per request by the origin the client reached (see below).
      servers: [{ url: 'http://localhost:3000', description: 'Local development' }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Your API key (Profile → API access)' },
          providerSecret: { type: 'http', scheme: 'bearer', description: 'A provider secret (SMS gateways only)' },
        },
        schemas: { ErrorEnvelope: errorEnvelopeComponent },
      },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'billing', description: 'Your balance' },
        { name: 'catalog', description: 'Services, countries and prices' },
        { name: 'activations', description: 'Buy a number, wait for its SMS code, finish it' },
        { name: 'rentals', description: 'Rent a number by the hour: every SMS to it, for every service, until it expires' },
        { name: 'supply', description: 'Internal: SMS gateways push incoming messages' },
      ],
    },
    transform: ({ schema, url }) => {
      if (!url.startsWith(publicApiPrefix) || url === openApiPath) return { schema: { ...schema, hide: true }, url };
      const transformed: JsonSchema = { ...schema };
      delete transformed.errors;
      if (schema?.body) transformed.body = withExample(schema.body as JsonSchema);
      const response: Record<string, JsonSchema> = {};
      for (const [status, responseSchema] of Object.entries((schema?.response ?? {}) as Record<string, JsonSchema>)) {
        response[status] = status.startsWith('2')
          ? { ...withExample(responseSchema), 'x-response-description': responseSchema.description ?? 'Success' }
          : responseSchema;
      }
      Object.assign(response, errorResponses([...commonErrors(url, schema ?? {}), ...(schema?.errors ?? [])]));
      transformed.response = response;
      // Gateways authenticate with their provider secret unless the route says otherwise (`security`).
      if (url.startsWith('/api/v1/supply/') && !schema?.security) transformed.security = [{ providerSecret: [] }];
      return { schema: transformed, url };
    },
  });

  // The server a client should call is the one it fetched the document from (behind a proxy too:
  // trustProxy makes protocol and host follow X-Forwarded-*).
  app.get(openApiPath, { schema: { hide: true } }, async (request) => ({
    ...app.swagger(),
    servers: [{ url: `${request.protocol}://${request.host}`, description: 'This server' }],
  }));
}
