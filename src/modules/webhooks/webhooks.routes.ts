import type { Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../http/auth.ts';
import { ok } from '../../http/envelope.ts';
import { carriesSecret } from '../../http/no-store.ts';
import { AppError } from '../../http/errors.ts';
import { formatApiTime } from '../../time-format.ts';
import { toUsdNumber, usdNumberToUnits } from '../billing/money.ts';
import {
  CreatedWebhookResponse,
  CreateWebhookBody,
  DeletedWebhookResponse,
  DeliveriesQuery,
  DeliveryIdParams,
  DeliveryListResponse,
  DeliveryResponse,
  WebhookIdParams,
  WebhookListResponse,
} from './webhooks.schema.ts';
import type { WebhookDelivery, WebhookEndpoint, WebhooksService } from './webhooks.service.ts';
import type { WebhookDeliveryStatus, WebhookEventType } from './webhooks.tables.ts';

export function webhookJson(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events as WebhookEventType[],
    balance_low_threshold: toUsdNumber(endpoint.balanceLowThreshold),
    created_at: formatApiTime(endpoint.createdAt),
  };
}

export function deliveryJson(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    event_id: delivery.eventId,
    event: delivery.eventType as WebhookEventType,
    status: delivery.status as WebhookDeliveryStatus,
    attempts: delivery.attempts,
    last_response_code: delivery.lastResponseCode,
    last_error: delivery.lastError,
    next_attempt_at: delivery.nextAttemptAt ? formatApiTime(delivery.nextAttemptAt) : null,
    created_at: formatApiTime(delivery.createdAt),
    delivered_at: delivery.deliveredAt ? formatApiTime(delivery.deliveredAt) : null,
    resend_of: delivery.resendOf,
  };
}

/** The service's input from a CreateWebhookBody (also used by the website's routes). */
export function webhookInput(body: Static<typeof CreateWebhookBody>) {
  let threshold: number | undefined;
  if (body.balance_low_threshold !== undefined) {
    const units = usdNumberToUnits(body.balance_low_threshold);
    if (units === null) throw new AppError('invalid_request', 'body.balance_low_threshold must be a USD amount with at most 4 decimals');
    threshold = units;
  }
  return { url: body.url, events: body.events, balanceLowThreshold: threshold };
}

export const webhooksRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhooksService }> = async (app, { webhooks }) => {
  app.post(
    '/webhooks',
    {
      config: carriesSecret,
      schema: {
        summary: 'Register a webhook endpoint (owners only); the answer carries its signing secret, shown once',
        tags: ['webhooks'],
        body: CreateWebhookBody,
        response: { 201: CreatedWebhookResponse },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await webhooks.create(principalOf(request), webhookInput(request.body));
      return reply.status(201).send(ok({ webhook: { ...webhookJson(endpoint), secret } }));
    },
  );

  app.get(
    '/webhooks',
    { schema: { summary: "Your company's webhook endpoints (owners only)", tags: ['webhooks'], response: { 200: WebhookListResponse } } },
    async (request) => ok({ webhooks: (await webhooks.list(principalOf(request))).map(webhookJson) }),
  );

  // DELETE, and POST …/delete for clients that cannot send DELETE.
  for (const [method, url] of [['DELETE', '/webhooks/:id'], ['POST', '/webhooks/:id/delete']] as const) {
    app.route({
      method,
      url,
      schema: {
        summary: 'Delete a webhook endpoint; its pending deliveries stop',
        tags: ['webhooks'],
        params: WebhookIdParams,
        response: { 200: DeletedWebhookResponse },
      },
      handler: async (request) => {
        await webhooks.remove(principalOf(request), request.params.id);
        return ok({ deleted: true as const, id: request.params.id });
      },
    });
  }

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        summary: 'Delivery log of a webhook endpoint, newest first',
        tags: ['webhooks'],
        params: WebhookIdParams,
        querystring: DeliveriesQuery,
        response: { 200: DeliveryListResponse },
      },
    },
    async (request) => {
      const list = await webhooks.deliveries(principalOf(request), request.params.id, request.query);
      return ok({ deliveries: list.map(deliveryJson) });
    },
  );

  app.post(
    '/webhooks/deliveries/:id/resend',
    {
      schema: {
        summary: 'Send the event of a delivery again, as a new delivery (same event id)',
        tags: ['webhooks'],
        params: DeliveryIdParams,
        response: { 201: DeliveryResponse },
      },
    },
    async (request, reply) => {
      const delivery = await webhooks.resend(principalOf(request), request.params.id);
      return reply.status(201).send(ok({ delivery: deliveryJson(delivery) }));
    },
  );
};
