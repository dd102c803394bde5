import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../http/auth.ts';
import { ok } from '../../http/envelope.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import { toUsdNumber, usdNumberToUnits } from '../billing/money.ts';
import type { Activation, ActivationMessage, ActivationsService } from './activations.service.ts';
import {
  ActivationListResponse,
  ActivationResponse,
  ActivationWithMessagesResponse,
  BuyBody,
  BuyHeaders,
  IdParams,
  ListQuery,
  WaitQuery,
} from './activations.schema.ts';
import type { ActivationChanges } from './activation-changes.ts';
import { createActivationLongPoll } from './activation-long-poll.ts';

/** The API's view of an activation: field names and formats exactly as nova-sms-api-v1 shows them (webhooks send it too). */
export function activationJson(activation: Activation, activations: ActivationsService) {
  return {
    id: activation.id,
    type: 'sms' as const,
    number: activation.number,
    service: activation.serviceCode,
    country: activation.countryId,
    operator: activation.operator,
    price: toUsdNumber(activation.price),
    status: activation.status,
    code: activation.code,
    text: activation.text,
    created_at: formatApiTime(activation.createdAt),
    expires_at: formatApiTime(activation.expiresAt),
    cancel_available_at: formatApiTime(activations.cancelAvailableAt(activation)),
  };
}

export function messageJson(message: ActivationMessage) {
  return {
    id: message.id,
    from: message.sender,
    text: message.text,
    code: message.code,
    received_at: formatApiTime(message.receivedAt),
  };
}

export const activationsRoutes: FastifyPluginAsyncTypebox<{ activations: ActivationsService; changes: ActivationChanges }> = async (
  app,
  { activations, changes },
) => {
  app.post(
    '/activations',
    {
      schema: {
        summary: 'Buy a number',
        tags: ['activations'],
        body: BuyBody,
        headers: BuyHeaders,
        response: { 201: ActivationResponse },
        errors: ['insufficient_balance', 'out_of_stock', 'unknown_service', 'unknown_country', 'price_above_max', 'idempotency_conflict'],
      },
    },
    async (request, reply) => {
      const body = request.body;
      let maxPrice: number | undefined;
      if (body.max_price !== undefined) {
        const units = usdNumberToUnits(body.max_price);
        if (units === null) throw new AppError('invalid_request', 'body.max_price must be a USD amount with at most 4 decimals');
        maxPrice = units;
      }
      const activation = await activations.buy(principalOf(request), {
        serviceCode: body.service_code,
        countryId: body.country_id,
        operator: body.operator,
        maxPrice,
        idempotencyKey: request.headers['idempotency-key'],
      });
      return reply.status(201).send(ok({ activation: activationJson(activation, activations) }));
    },
  );

  // Long-poll waits hear the cross-instance changes through the instance's one subscription; shutdown answers them at once.
  const longPoll = createActivationLongPoll(changes);
  app.addHook('preClose', async () => longPoll.close());

  app.get(
    '/activations/:id',
    {
      schema: {
        summary: 'Get an activation and its SMS code; with ?wait=N, wait up to N s for its SMS (long-poll)',
        description:
          'With `wait` (0–60 s) and the activation still open without a code, the answer comes as soon as its status ' +
          'or code changes (an SMS arrives, it is cancelled or expires), or after `wait` seconds with the status unchanged. ' +
          'An activation with a code, or finished, is answered at once.',
        tags: ['activations'],
        params: IdParams,
        querystring: WaitQuery,
        response: { 200: ActivationWithMessagesResponse },
        errors: ['not_found'],
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const id = request.params.id;
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const found = await longPoll.wait({
        activationId: id,
        seconds: request.query.wait ?? 0,
        signal: gone.signal,
        read: () => activations.get(principal, id),
        // Worth waiting for: an open activation without a code yet (an SMS without one may come first).
        settled: ({ activation }) => activation.code !== null || (activation.status !== 'waiting' && activation.status !== 'sms_received'),
      });
      // The client went away while waiting: there is nobody to answer.
      if (!found) return reply;
      const { activation, messages } = found;
      return ok({ activation: { ...activationJson(activation, activations), messages: messages.map(messageJson) } });
    },
  );

  app.get(
    '/activations',
    {
      schema: {
        summary: 'List activations (owners: whole company; members: their own), newest first',
        tags: ['activations'],
        querystring: ListQuery,
        response: { 200: ActivationListResponse },
      },
    },
    async (request) => {
      const { limit, offset, status } = request.query;
      const page = await activations.list(principalOf(request), { limit, offset, status });
      return ok({
        activations: page.activations.map((a) => activationJson(a, activations)),
        total: page.total,
        limit,
        offset,
      });
    },
  );

  app.post(
    '/activations/:id/cancel',
    {
      schema: {
        summary: 'Cancel a waiting activation and refund it (allowed from 3 minutes after purchase)',
        tags: ['activations'],
        params: IdParams,
        response: { 200: ActivationResponse },
        errors: ['not_found', 'invalid_state', 'too_early'],
      },
    },
    async (request) => {
      const activation = await activations.cancel(principalOf(request), request.params.id);
      return ok({ activation: activationJson(activation, activations) });
    },
  );

  app.post(
    '/activations/:id/complete',
    {
      schema: {
        summary: 'Complete an activation after its SMS arrived',
        tags: ['activations'],
        params: IdParams,
        response: { 200: ActivationResponse },
        errors: ['not_found', 'invalid_state'],
      },
    },
    async (request) => {
      const activation = await activations.complete(principalOf(request), request.params.id);
      return ok({ activation: activationJson(activation, activations) });
    },
  );
};
