import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bearerToken } from '../../http/auth.ts';
import { ok } from '../../http/envelope.ts';
import { AppError } from '../../http/errors.ts';
import type { Clock } from '../../clock.ts';
import { IncomingSmsBody, IncomingSmsResponse } from './supply.schema.ts';
import type { Provider, SupplyService } from './supply.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    provider?: Provider;
  }
}

/** Internal endpoints for SMS gateways and modems; they authenticate with a provider secret, not a customer key. */
export const supplyRoutes: FastifyPluginAsyncTypebox<{ supply: SupplyService; clock: Clock }> = async (app, { supply, clock }) => {
  // Authenticate before the body is read, so an unknown sender learns nothing about our validation.
  app.addHook('onRequest', async (request) => {
    const provider = await supply.authenticateProvider(bearerToken(request));
    if (!provider) throw new AppError('unauthorized', 'Missing or invalid provider secret: send "Authorization: Bearer PROVIDER_SECRET"');
    request.provider = provider;
  });

  app.post(
    '/supply/sms',
    {
      schema: {
        summary: 'Push an incoming SMS (SMS gateways, modem software); authenticated with a provider secret',
        tags: ['supply'],
        body: IncomingSmsBody,
        response: { 200: IncomingSmsResponse },
        errors: ['conflict'],
      },
    },
    async (request) => {
      const provider = request.provider;
      if (!provider) throw new AppError('unauthorized', 'Missing provider secret');
      const body = request.body;
      const receivedAt = body.received_at ? new Date(body.received_at) : clock.now();
      const result = await supply.ingestSms(provider, { to: body.to, from: body.from, text: body.text, receivedAt });
      return ok({ sms_id: result.smsId, activation_id: result.activationId, code: result.code, duplicate: result.duplicate });
    },
  );
};
