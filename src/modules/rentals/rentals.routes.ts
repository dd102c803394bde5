import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { whileClientWaits } from '../../http/client-gone.ts';
import { principalOf } from '../../http/auth.ts';
import { ok } from '../../http/envelope.ts';
import { formatApiTime } from '../../time-format.ts';
import { toUsdNumber } from '../billing/money.ts';
import type { Rental, RentalMessage, RentalsService } from './rentals.service.ts';
import {
  ExtendBody,
  IdParams,
  ListQuery,
  PricesQuery,
  RentalListResponse,
  RentalPricesResponse,
  RentalResponse,
  RentBody,
  RentHeaders,
  WaitQuery,
} from './rentals.schema.ts';

/** The API's view of a rental (the website, the compat endpoint and webhooks send it too). */
export function rentalJson(rental: Rental) {
  return {
    id: rental.id,
    type: 'rent' as const,
    number: rental.number,
    country: rental.countryId,
    operator: rental.operator,
    price: toUsdNumber(rental.price),
    status: rental.status,
    hours: rental.hours,
    created_at: formatApiTime(rental.createdAt),
    expires_at: formatApiTime(rental.expiresAt),
    finished_at: rental.finishedAt ? formatApiTime(rental.finishedAt) : null,
  };
}

export function rentalMessageJson(message: RentalMessage) {
  return {
    id: message.id,
    from: message.sender,
    text: message.text,
    code: message.code,
    received_at: formatApiTime(message.receivedAt),
  };
}

/** A rental with all its messages (newest first), as single reads, the website and the rental.expired webhook show it. */
export const rentalWithMessagesJson = (rental: Rental, messages: RentalMessage[]) => ({ ...rentalJson(rental), messages: messages.map(rentalMessageJson) });

export const rentalsRoutes: FastifyPluginAsyncTypebox<{ rentals: RentalsService }> = async (app, { rentals }) => {
  // Shutdown answers the open long-polls at once, each with the rental as it is.
  app.addHook('preClose', async () => rentals.closeWaits());

  /** An action's answer: the rental as the action left it, with its messages. */
  async function answer(principal: ReturnType<typeof principalOf>, rental: Rental) {
    const { messages } = await rentals.get(principal, rental.id);
    return ok({ rental: rentalWithMessagesJson(rental, messages) });
  }

  app.get(
    '/rentals/prices',
    {
      schema: {
        summary: 'Rental prices per hour and per day, with the numbers free to rent (of one country, or all)',
        tags: ['rentals'],
        querystring: PricesQuery,
        response: { 200: RentalPricesResponse },
        errors: ['unknown_country'],
      },
    },
    async (request) => {
      const prices = await rentals.prices(request.query.country);
      return ok({
        prices: prices.map((row) => ({
          country: row.countryId,
          operator: row.operator,
          price_per_hour: toUsdNumber(row.pricePerHour),
          price_per_day: toUsdNumber(row.pricePerDay),
          available: row.available,
        })),
      });
    },
  );

  app.post(
    '/rentals',
    {
      schema: {
        summary: 'Rent a number by the hour: it receives every SMS, for every service, until it expires',
        description:
          'Charged at once: whole days at the day price, the rest at the hour price but never more than a day. ' +
          'Retrying with the same `Idempotency-Key` answers the first rental.',
        tags: ['rentals'],
        body: RentBody,
        headers: RentHeaders,
        response: { 201: RentalResponse },
        errors: ['insufficient_balance', 'out_of_stock', 'unknown_country', 'idempotency_conflict'],
      },
    },
    async (request, reply) => {
      const rental = await rentals.create(principalOf(request), {
        countryId: request.body.country_id,
        hours: request.body.hours,
        operator: request.body.operator,
        idempotencyKey: request.headers['idempotency-key'],
      });
      // A new rental has no message yet (one arriving meanwhile shows on the next GET).
      return reply.status(201).send(ok({ rental: rentalWithMessagesJson(rental, []) }));
    },
  );

  app.get(
    '/rentals/:id',
    {
      schema: {
        summary: 'Get a rental and all its messages (newest first); with ?wait=N, wait up to N s for the next one (long-poll)',
        description:
          'With `wait` (0–60 s) and the rental active, the answer comes as soon as it changes (a message arrives, it is ' +
          'extended, finished, cancelled or expires), or after `wait` seconds unchanged. A rental no longer active is answered at once. ' +
          'With `after` (a message id), a rental that already has a message newer than it is answered at once too: an SMS that ' +
          'arrived between two polls is not missed.',
        tags: ['rentals'],
        params: IdParams,
        querystring: WaitQuery,
        response: { 200: RentalResponse },
        errors: ['not_found'],
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const found = await whileClientWaits(reply, (signal) =>
        rentals.wait(principal, request.params.id, { seconds: request.query.wait ?? 0, signal, afterMessageId: request.query.after }),
      );
      // The client went away while waiting: there is nobody to answer.
      if (!found) return reply;
      return ok({ rental: rentalWithMessagesJson(found.rental, found.messages) });
    },
  );

  app.get(
    '/rentals',
    {
      schema: {
        summary: 'List rentals (owners: whole company; members: their own), newest first',
        tags: ['rentals'],
        querystring: ListQuery,
        response: { 200: RentalListResponse },
      },
    },
    async (request) => {
      const { limit, offset, status } = request.query;
      const page = await rentals.list(principalOf(request), { limit, offset, status });
      return ok({ rentals: page.rentals.map(rentalJson), total: page.total, limit, offset });
    },
  );

  app.post(
    '/rentals/:id/extend',
    {
      schema: {
        summary: 'Extend an active rental by some hours (charged now; expires_at moves)',
        tags: ['rentals'],
        params: IdParams,
        body: ExtendBody,
        response: { 200: RentalResponse },
        errors: ['not_found', 'invalid_state', 'insufficient_balance', 'out_of_stock'],
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return answer(principal, await rentals.extend(principal, request.params.id, request.body.hours));
    },
  );

  app.post(
    '/rentals/:id/cancel',
    {
      schema: {
        summary: 'Cancel a rental for a full refund: within 20 minutes of renting and before any SMS',
        tags: ['rentals'],
        params: IdParams,
        response: { 200: RentalResponse },
        errors: ['not_found', 'invalid_state', 'too_late'],
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return answer(principal, await rentals.cancel(principal, request.params.id));
    },
  );

  app.post(
    '/rentals/:id/finish',
    {
      schema: {
        summary: 'End an active rental early, without refund (the number is released)',
        tags: ['rentals'],
        params: IdParams,
        response: { 200: RentalResponse },
        errors: ['not_found', 'invalid_state'],
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return answer(principal, await rentals.finish(principal, request.params.id));
    },
  );
};
