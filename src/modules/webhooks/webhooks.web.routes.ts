import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok } from '../../http/envelope.ts';
import { carriesSecret } from '../../http/no-store.ts';
import type { WebHttp } from '../web/web-session.ts';
import { hide } from '../web/web.schema.ts';
import { deliveryJson, webhookInput, webhookJson } from './webhooks.routes.ts';
import { CreateWebhookBody, DeliveriesQuery, DeliveryIdParams, WebhookIdParams } from './webhooks.schema.ts';
import type { WebhooksService } from './webhooks.service.ts';

/** Website: webhook endpoints and their deliveries (owners; the webhooks service enforces it, as on API v1). */
export const webhooksWebRoutes: FastifyPluginAsyncTypebox<{ web: WebHttp; webhooks: WebhooksService }> = async (app, { web, webhooks }) => {
  app.get('/webhooks', { schema: hide }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ webhooks: (await webhooks.list(principal)).map(webhookJson) });
  });

  app.post('/webhooks', { schema: { ...hide, body: CreateWebhookBody }, config: carriesSecret }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const { endpoint, secret } = await webhooks.create(principal, webhookInput(request.body));
    return reply.status(201).send(ok({ webhook: { ...webhookJson(endpoint), secret } }));
  });

  app.post('/webhooks/:id/delete', { schema: { ...hide, params: WebhookIdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    await webhooks.remove(principal, request.params.id);
    return ok({ deleted: true, id: request.params.id });
  });

  app.get('/webhooks/:id/deliveries', { schema: { ...hide, params: WebhookIdParams, querystring: DeliveriesQuery } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ deliveries: (await webhooks.deliveries(principal, request.params.id, request.query)).map(deliveryJson) });
  });

  app.post('/webhooks/deliveries/:id/resend', { schema: { ...hide, params: DeliveryIdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return reply.status(201).send(ok({ delivery: deliveryJson(await webhooks.resend(principal, request.params.id)) }));
  });
};
