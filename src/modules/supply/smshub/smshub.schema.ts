import { Type } from '@sinclair/typebox';

/** PUSH_SMS as a SIM-bank agent sends it (SMSHub agent protocol, request 4); numbers are numeric. */
export const PushSmsBody = Type.Object(
  {
    action: Type.Literal('PUSH_SMS'),
    key: Type.String({ minLength: 1, maxLength: 200, description: 'The protocol key given to the agent', examples: ['12345'] }),
    smsId: Type.Integer({ minimum: 0, description: "SMS id in the agent's system", examples: [1] }),
    phone: Type.Integer({ minimum: 1000, description: 'Receiving number with its country code', examples: [12025550123] }),
    phoneFrom: Type.String({ minLength: 1, maxLength: 64, examples: ['Telegram'] }),
    text: Type.String({ minLength: 1, maxLength: 4096, examples: ['Telegram code: 33708'] }),
  },
  { additionalProperties: true },
);

export const AgentReply = Type.Object({
  status: Type.Union([Type.Literal('SUCCESS'), Type.Literal('ERROR')], { examples: ['SUCCESS'] }),
  error: Type.Optional(Type.String({ description: 'What went wrong, with status ERROR' })),
});
