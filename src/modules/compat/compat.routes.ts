import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { AppError } from '../../http/errors.ts';
import type { KeyRateLimiter } from '../../http/rate-limit.ts';
import type { AccountsService } from '../accounts/accounts.service.ts';
import type { ActivationsService } from '../activations/activations.service.ts';
import type { BillingService } from '../billing/billing.service.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import type { RentalsService } from '../rentals/rentals.service.ts';
import type { RentalStock } from '../supply/rental-stock.ts';
import { type CompatParams, type CompatReply, createCompatService } from './compat.service.ts';

const param = (description: string, example: string) => Type.Optional(Type.String({ description, examples: [example] }));

// Documentation of the parameters; every field is optional text so that a malformed call gets
// the protocol's own reply (BAD_KEY, BAD_ACTION, …) rather than our JSON validation error.
const HandlerQuery = Type.Object(
  {
    api_key: param('Your Nova API key', 'nova_…'),
    action: param(
      'getBalance, getNumber, getNumberV2, getStatus, setStatus, getPrices, getCountries, getServicesList, getActiveActivations; ' +
        'rentals: getRentServicesAndCountries, getRentNumber, getRentStatus, setRentStatus, getRentList, continueRentNumber',
      'getNumber',
    ),
    service: param('Service code (rentals: any code, or "full"; a rented number receives every service)', 'tg'),
    country: param('Country id', '6'),
    operator: param('Operator, or a comma list of them', 'any'),
    maxPrice: param('Highest price you accept, USD', '0.50'),
    id: param('Activation id (rent actions: rental id)', '123'),
    status: param('setStatus: 1 ready, 3 another SMS, 6 complete, 8 cancel; setRentStatus: 1 finish, 2 cancel', '6'),
    rent_time: param('getRentNumber, continueRentNumber, getRentServicesAndCountries: hours, 1 to 720 (default 4)', '4'),
  },
  { additionalProperties: true },
);

const HandlerReply = Type.String({
  description: 'Plain text (ACCESS_…, STATUS_…, error words) or JSON, as the sms-activate protocol answers; HTTP 200',
  examples: ['ACCESS_NUMBER:123:12025550123', 'STATUS_OK:12345', 'ACCESS_BALANCE:14.0912', 'NO_NUMBERS', 'BAD_KEY', '{"status":"error","message":"STATUS_WAIT_CODE"}'],
});

function send(reply: FastifyReply, answer: CompatReply) {
  if (answer.kind === 'json') return reply.type('application/json; charset=utf-8').send(JSON.stringify(answer.body));
  return reply.type('text/plain; charset=utf-8').send(answer.body);
}

/**
 * `GET|POST /stubs/handler_api.php`: the sms-activate protocol, so tools written for it work
 * against Nova by changing the host only. The key travels as `api_key` (query or form body) and
 * counts against the same per-key rate limit as API v1.
 */
export const compatRoutes: FastifyPluginAsyncTypebox<{
  accounts: AccountsService;
  billing: BillingService;
  catalog: CatalogService;
  activations: ActivationsService;
  rentals: RentalsService;
  rentalStock: Pick<RentalStock, 'available'>;
  limiter: KeyRateLimiter;
}> = async (app, deps) => {
  const compat = createCompatService(deps);

  // Form posts are how this protocol's clients send POSTs; only this plugin accepts them.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.route({
    method: ['GET', 'POST'],
    url: '/stubs/handler_api.php',
    schema: {
      summary: 'sms-activate compatible API (handler_api.php)',
      tags: ['compatibility'],
      querystring: HandlerQuery,
      response: { 200: HandlerReply, 429: Type.String({ description: 'Too many requests for this key; see Retry-After', examples: ['TOO_MANY_REQUESTS'] }) },
    },
    handler: async (request, reply) => {
      const body = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
      const params: CompatParams = {};
      for (const [name, value] of Object.entries({ ...(request.query as Record<string, unknown>), ...body })) {
        if (typeof value === 'string' || typeof value === 'number') params[name] = String(value);
      }
      const principal = params.api_key ? await compat.authenticate(params.api_key) : ({ kind: 'text', body: 'BAD_KEY' } as const);
      if ('kind' in principal) return send(reply, principal);
      try {
        const verdict = await deps.limiter.consume(`key:${principal.keyId}`);
        reply.headers(verdict.headers);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'rate_limited') throw error;
        // The protocol has no word for it; HTTP 429 with Retry-After is what generic clients understand.
        reply.headers(error.headers ?? {}).status(429);
        return send(reply, { kind: 'text', body: 'TOO_MANY_REQUESTS' });
      }
      return send(reply, await compat.perform(principal, params));
    },
  });
};
