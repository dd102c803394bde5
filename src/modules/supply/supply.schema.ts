import { Type } from '@sinclair/typebox';
import { okSchema } from '../../http/envelope.ts';

export const IncomingSmsBody = Type.Object(
  {
    to: Type.String({ minLength: 3, maxLength: 32, description: 'Recipient number, E.164 preferred', examples: ['+12025550123'] }),
    from: Type.String({ minLength: 1, maxLength: 64, examples: ['Telegram'] }),
    text: Type.String({ minLength: 1, maxLength: 4096, examples: ['Telegram code: 12345'] }),
    received_at: Type.Optional(Type.String({ format: 'date-time', examples: ['2026-06-02T10:01:30Z'] })),
  },
  { additionalProperties: false },
);

export const IncomingSmsResponse = okSchema(
  Type.Object({
    sms_id: Type.Integer({ examples: [789] }),
    activation_id: Type.Union([Type.Integer(), Type.Null()], { description: 'null when no waiting activation has that number', examples: [123] }),
    code: Type.Union([Type.String(), Type.Null()], { examples: ['12345'] }),
    duplicate: Type.Boolean({ description: 'true when the same text reached this number within 2 minutes: stored and delivered once', examples: [false] }),
  }),
);
