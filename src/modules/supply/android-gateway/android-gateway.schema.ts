import { Type } from '@sinclair/typebox';
import { okSchema } from '../../../http/envelope.ts';

export const GatewayWebhookParams = Type.Object({
  providerId: Type.Integer({ minimum: 1, description: 'Id printed by `provider:create --kind android-gateway`' }),
});

/** The envelope of every webhook the app sends (docs: Webhooks → "Receive the payload"). */
export const GatewayWebhookBody = Type.Object(
  {
    deviceId: Type.String({ minLength: 1, maxLength: 128, examples: ['ffffffffceb0b1db0000018e937c815b'] }),
    event: Type.String({ minLength: 1, maxLength: 64, examples: ['sms:received'] }),
    id: Type.String({ minLength: 1, maxLength: 128, examples: ['Ey6ECgOkVVFjz3CL48B8C'] }),
    payload: Type.Record(Type.String(), Type.Unknown(), {
      description: 'For sms:received: messageId, message, phoneNumber (the sender), simNumber (SIM slot, may be null), receivedAt',
      examples: [
        { messageId: 'abc123', message: 'Android is always a sweet treat!', phoneNumber: '6505551212', simNumber: 1, receivedAt: '2024-06-22T15:46:11.000+07:00' },
      ],
    }),
    webhookId: Type.Optional(Type.String({ maxLength: 128, examples: ['<unique-id>'] })),
  },
  // The app may add fields in later versions; they are ignored, not refused.
  { additionalProperties: true },
);

/** The `payload` of an `sms:received` event. */
export const GatewaySmsReceivedPayload = Type.Object({
  messageId: Type.Optional(Type.String()),
  message: Type.String({ minLength: 1, maxLength: 4096 }),
  phoneNumber: Type.String({ minLength: 1, maxLength: 64 }),
  simNumber: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 16 }), Type.Null()])),
  receivedAt: Type.Optional(Type.String()),
});

export const GatewayWebhookResponse = okSchema(
  Type.Object({
    event: Type.String({ examples: ['sms:received'] }),
    sms_id: Type.Union([Type.Integer(), Type.Null()], { description: 'null for events other than sms:received', examples: [789] }),
    activation_id: Type.Union([Type.Integer(), Type.Null()], { examples: [123456] }),
    code: Type.Union([Type.String(), Type.Null()], { examples: ['12345'] }),
    duplicate: Type.Boolean({ description: 'true when this event or SMS was already received: it was not delivered again', examples: [false] }),
  }),
);
