import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Value } from '@sinclair/typebox/value';
import type { Clock } from '../../../clock.ts';
import { ok } from '../../../http/envelope.ts';
import { AppError } from '../../../http/errors.ts';
import type { Provider, SupplyService } from '../supply.service.ts';
import { GatewaySmsReceivedPayload, GatewayWebhookBody, GatewayWebhookParams, GatewayWebhookResponse } from './android-gateway.schema.ts';
import { isValidGatewaySignature } from './android-gateway.signature.ts';

declare module 'fastify' {
  interface FastifyRequest {
    gatewayProvider?: Provider;
  }
}

const unauthorized = () =>
  new AppError('unauthorized', 'Unknown gateway or bad webhook signature: check the provider id in the URL and the signing key set in the app');

/**
 * Webhooks of SMS Gateway for Android phones (register the URL in the app for `sms:received`).
 * They carry no bearer secret: each request is signed (see android-gateway.signature.ts), so the
 * body is kept as the exact text received, checked, and only then parsed and validated.
 */
export const androidGatewayRoutes: FastifyPluginAsyncTypebox<{ supply: SupplyService; clock: Clock; maxSkewSeconds: number }> = async (
  app,
  { supply, clock, maxSkewSeconds },
) => {
  // In this plugin only: keep the raw text; preValidation parses it after the signature check.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post(
    '/supply/android-gateway/:providerId',
    {
      schema: {
        summary: 'Webhook for SMS Gateway for Android (sms:received); signed with X-Signature / X-Timestamp',
        tags: ['supply'],
        params: GatewayWebhookParams,
        body: GatewayWebhookBody,
        response: { 200: GatewayWebhookResponse },
      },
      preValidation: async (request) => {
        const providerId = Number((request.params as { providerId: string | number }).providerId);
        const found = Number.isInteger(providerId) && providerId > 0 && providerId <= 2_147_483_647 ? await supply.findGatewayProvider(providerId) : null;
        const raw = typeof request.body === 'string' ? request.body : '';
        const timestamp = String(request.headers['x-timestamp'] ?? '');
        const signature = String(request.headers['x-signature'] ?? '');
        if (!found || !/^\d{1,12}$/.test(timestamp) || !isValidGatewaySignature(found.signingKey, raw, timestamp, signature)) {
          throw unauthorized();
        }
        // A signature is only as fresh as its timestamp: refuse old (replayed) or far-future ones.
        const skew = Math.abs(clock.now().getTime() / 1000 - Number(timestamp));
        if (skew > maxSkewSeconds) {
          throw new AppError('unauthorized', `Webhook timestamp is ${Math.round(skew)} s away from our clock (max ${maxSkewSeconds} s): check the phone's clock`);
        }
        try {
          request.body = JSON.parse(raw);
        } catch {
          throw new AppError('invalid_request', 'Webhook body is not valid JSON');
        }
        request.gatewayProvider = found.provider;
      },
    },
    async (request) => {
      const provider = request.gatewayProvider;
      if (!provider) throw unauthorized();
      const body = request.body;
      if (body.event !== 'sms:received') {
        // Other events (system:ping, sms:sent …) are signs of life only.
        await supply.recordProviderSeen(provider.id);
        return ok({ event: body.event, sms_id: null, activation_id: null, code: null, duplicate: false });
      }
      if (!Value.Check(GatewaySmsReceivedPayload, body.payload)) {
        const first = Value.Errors(GatewaySmsReceivedPayload, body.payload).First();
        throw new AppError('invalid_request', `body.payload${first?.path.replaceAll('/', '.') ?? ''} ${first?.message ?? 'is invalid'}`);
      }
      const sms = body.payload;
      const receivedAt = sms.receivedAt && !Number.isNaN(Date.parse(sms.receivedAt)) ? new Date(sms.receivedAt) : clock.now();
      const signature = String(request.headers['x-signature']).toLowerCase();
      const result = await supply.ingestGatewaySms(provider, {
        deviceId: body.deviceId,
        simSlot: sms.simNumber ?? null,
        from: sms.phoneNumber,
        text: sms.message,
        receivedAt,
        receiptKeys: { eventId: body.id, signature },
      });
      return ok({ event: body.event, sms_id: result.smsId, activation_id: result.activationId, code: result.code, duplicate: result.duplicate });
    },
  );
};
