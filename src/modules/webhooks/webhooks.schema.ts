import { Type } from '@sinclair/typebox';
import { okSchema } from '../../http/envelope.ts';
import { webhookEventTypes } from './webhooks.tables.ts';

const EventType = Type.Union(
  [Type.Literal('activation.sms_received'), Type.Literal('activation.expired'), Type.Literal('activation.cancelled'), Type.Literal('activation.reported'), Type.Literal('balance.low'), Type.Literal('rental.message_received'), Type.Literal('rental.expired')],
  { examples: ['activation.sms_received'] },
);

export const WebhookJson = Type.Object({
  id: Type.Integer({ examples: [7] }),
  url: Type.String({ examples: ['https://example.com/nova/webhook'] }),
  events: Type.Array(EventType, { examples: [['activation.sms_received', 'balance.low']] }),
  balance_low_threshold: Type.Number({ description: 'USD; balance.low fires when the balance falls below it', examples: [1] }),
  created_at: Type.String({ examples: ['2026-06-02 10:00:00'] }),
});

export const CreatedWebhookJson = Type.Object({
  ...WebhookJson.properties,
  secret: Type.String({
    description: 'Signing secret (HMAC-SHA256 key of Nova-Signature); shown only in this answer',
    examples: ['whsec_3f9a0c5e1b7d4a2f8c6e0b9d1a3f5c7e9b2d4f6a8c0e1b3d'],
  }),
});

export const DeliveryJson = Type.Object({
  id: Type.Integer({ examples: [42] }),
  event_id: Type.String({ description: 'Sent as Nova-Event-Id; the same on a resend', examples: ['evt_5b0f6c1e9d8a4b7c8e2f3a1d0c9b8a7e'] }),
  event: EventType,
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')], { examples: ['delivered'] }),
  attempts: Type.Integer({ examples: [1] }),
  last_response_code: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last attempt; null when no answer came', examples: [200] }),
  last_error: Type.Union([Type.String(), Type.Null()], { examples: [null] }),
  next_attempt_at: Type.Union([Type.String(), Type.Null()], { description: 'UTC; null once delivered or failed', examples: [null] }),
  created_at: Type.String({ examples: ['2026-06-02 10:01:30'] }),
  delivered_at: Type.Union([Type.String(), Type.Null()], { examples: ['2026-06-02 10:01:31'] }),
  resend_of: Type.Union([Type.Integer(), Type.Null()], { description: 'The delivery this one resends', examples: [null] }),
});

export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'https:// only', examples: ['https://example.com/nova/webhook'] }),
    events: Type.Array(EventType, { minItems: 1, maxItems: webhookEventTypes.length * 2, examples: [['activation.sms_received']] }),
    balance_low_threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000, description: 'USD, default 1.00', examples: [1] })),
  },
  { additionalProperties: false },
);

export const WebhookIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
export const DeliveryIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

export const DeliveriesQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
  },
  { additionalProperties: false },
);

export const CreatedWebhookResponse = okSchema(Type.Object({ webhook: CreatedWebhookJson }));
export const WebhookListResponse = okSchema(Type.Object({ webhooks: Type.Array(WebhookJson) }));
export const DeletedWebhookResponse = okSchema(Type.Object({ deleted: Type.Literal(true), id: Type.Integer({ examples: [7] }) }));
export const DeliveryListResponse = okSchema(Type.Object({ deliveries: Type.Array(DeliveryJson) }));
export const DeliveryResponse = okSchema(Type.Object({ delivery: DeliveryJson }));
