import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { principalOf } from '../../http/auth.ts';
import { ok } from '../../http/envelope.ts';
import { whileClientWaits } from '../../http/client-gone.ts';
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
  ReportBody,
  ReportResponse,
  WaitQuery,
} from './activations.schema.ts';
import type { ActivationReport } from './activation-reports.service.ts';
import type { ActivationChanges } from './activation-changes.ts';
import { createLongPoll } from '../../events/long-poll.ts';

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
    reused_from: activation.reusedFrom,
  };
}

/** A customer's report of an activation's number, as the API and the activation.reported webhook show it. */
export function reportJson(report: ActivationReport) {
  return { reason: report.reason, note: report.note, refunded: report.refunded, created_at: formatApiTime(report.createdAt) };
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

// The answer of a poll, written once per cached snapshot: while nothing changes, the read cache
// hands out the same activation object, so a poll neither formats its dates nor serializes it
// again (the serialization was an eighth of a cached poll's CPU, measured against GET /balance).
const writtenPollAnswers = new WeakMap<Activation, { messages: ActivationMessage[]; written: string }>();

function buildPollAnswer(activations: ActivationsService, activation: Activation, messages: ActivationMessage[]) {
  return ok({ activation: { ...activationJson(activation, activations), messages: messages.map(messageJson) } });
}

/**
 * Sends the poll answer of `snapshot` as JSON written by the route's own 200 serializer (the
 * schema's field set and order, as if Fastify had serialized it), kept for the next poll.
 * Already JSON, sent as it is: Fastify does not serialize a string with a JSON content type.
 */
function sendPollAnswer(reply: FastifyReply, activations: ActivationsService, { activation, messages }: { activation: Activation; messages: ActivationMessage[] }) {
  const kept = writtenPollAnswers.get(activation);
  if (kept && kept.messages === messages) return reply.type('application/json; charset=utf-8').send(kept.written);
  const serialize = reply.getSerializationFunction('200');
  const answer = buildPollAnswer(activations, activation, messages);
  if (!serialize) return reply.send(answer);
  const written = serialize(answer);
  writtenPollAnswers.set(activation, { messages, written });
  return reply.type('application/json; charset=utf-8').send(written);
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
  const longPoll = createLongPoll(changes);
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
      const seconds = request.query.wait ?? 0;
      // A plain poll (no wait), the common case, costs no abort machinery.
      if (seconds <= 0) return sendPollAnswer(reply, activations, activations.getFromMemory(principal, id) ?? (await activations.get(principal, id)));
      const found = await whileClientWaits(reply, (signal) =>
        longPoll.wait({
          id,
          seconds,
          signal,
          read: () => activations.get(principal, id),
          // Worth waiting for: an open activation without a code yet (an SMS without one may come first).
          settled: ({ activation }) => activation.code !== null || (activation.status !== 'waiting' && activation.status !== 'sms_received'),
        }),
      );
      // The client went away while waiting: there is nobody to answer.
      if (!found) return reply;
      return sendPollAnswer(reply, activations, found);
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

  app.post(
    '/activations/:id/reuse',
    {
      schema: {
        summary: 'Take the number of a completed activation again, for the same service, as a new activation',
        description:
          'For re-verifying the account made with the number. Allowed within NOVA_REUSE_WINDOW_S (default 24 h) of the ' +
          'activation\'s finish, while the number is still in stock and in no other activation or rental; charged at the ' +
          'current price. Otherwise 409 `reuse_unavailable` with the reason (`invalid_state` while the activation is still open).',
        tags: ['activations'],
        params: IdParams,
        headers: BuyHeaders,
        response: { 201: ActivationResponse },
        errors: ['not_found', 'invalid_state', 'reuse_unavailable', 'insufficient_balance', 'idempotency_conflict'],
      },
    },
    async (request, reply) => {
      const activation = await activations.reuse(principalOf(request), request.params.id, { idempotencyKey: request.headers['idempotency-key'] });
      return reply.status(201).send(ok({ activation: activationJson(activation, activations) }));
    },
  );

  app.post(
    '/activations/:id/report',
    {
      schema: {
        summary: 'Report a bad number on a waiting activation (used or blocked: cancelled at once with a full refund)',
        description:
          '`used` and `blocked` cancel the activation at once with a full refund (no 3-minute wait), unless your refunded ' +
          'reports exceed the allowed share of your purchases (then the report is recorded and the activation waits as usual). ' +
          '`no_sms` and `other` are recorded; the activation goes on waiting. One report per activation; the number is never ' +
          'sold again for the service.',
        tags: ['activations'],
        params: IdParams,
        body: ReportBody,
        response: { 200: ReportResponse },
        errors: ['not_found', 'invalid_state'],
      },
    },
    async (request) => {
      const { activation, report } = await activations.report(principalOf(request), request.params.id, request.body);
      return ok({ activation: activationJson(activation, activations), report: reportJson(report) });
    },
  );
};
