import { type Static, Type } from '@sinclair/typebox';
import { okSchema } from '../../http/envelope.ts';
import { maxWaitSeconds } from '../../events/long-poll.ts';

const Status = Type.Union([
  Type.Literal('waiting'),
  Type.Literal('sms_received'),
  Type.Literal('completed'),
  Type.Literal('cancelled'),
  Type.Literal('expired'),
]);

export const ActivationJson = Type.Object(
  {
    id: Type.Integer({ examples: [123] }),
    type: Type.Literal('sms'),
    number: Type.String({ description: 'E.164', examples: ['+12025550123'] }),
    service: Type.String({ examples: ['tg'] }),
    country: Type.Integer({ examples: [6] }),
    operator: Type.String({ examples: ['any'] }),
    price: Type.Number({ description: 'USD', examples: [0.5] }),
    status: Status,
    code: Type.Union([Type.String(), Type.Null()], { examples: ['123456'] }),
    text: Type.Union([Type.String(), Type.Null()], { examples: ['Your code is 123456'] }),
    created_at: Type.String({ description: 'UTC, "YYYY-MM-DD HH:MM:SS"', examples: ['2026-06-02 10:00:00'] }),
    expires_at: Type.String({ description: 'UTC, "YYYY-MM-DD HH:MM:SS"', examples: ['2026-06-02 10:20:00'] }),
    cancel_available_at: Type.String({ description: 'UTC; cancel is refused before this time', examples: ['2026-06-02 10:03:00'] }),
    reused_from: Type.Union([Type.Integer(), Type.Null()], {
      description: 'The activation whose number this one took again (POST /activations/{id}/reuse); null for a new number',
      examples: [null],
    }),
  },
  { additionalProperties: false },
);

export const MessageJson = Type.Object({
  id: Type.Integer({ examples: [456] }),
  from: Type.String({ examples: ['Telegram'] }),
  text: Type.String({ examples: ['Telegram code: 12345'] }),
  code: Type.Union([Type.String(), Type.Null()], { examples: ['12345'] }),
  received_at: Type.String({ examples: ['2026-06-02 10:01:30'] }),
});

export const BuyBody = Type.Object(
  {
    service_code: Type.String({ minLength: 1, maxLength: 32, examples: ['tg'] }),
    country_id: Type.Integer({ minimum: 0, maximum: 100000, examples: [6] }),
    operator: Type.Optional(Type.String({ minLength: 1, maxLength: 64, examples: ['any'] })),
    max_price: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 100000, description: 'USD; refuse to buy above this price', examples: [0.6] }),
    ),
  },
  { additionalProperties: false },
);
export type BuyBody = Static<typeof BuyBody>;

export const BuyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'Retrying with the same key returns the first purchase instead of buying again',
      examples: ['signup-42'],
    }),
  ),
});

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, examples: [123] }) });

export const WaitQuery = Type.Object({
  wait: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: maxWaitSeconds,
      description:
        'Long-poll: while the activation is open without a code, hold the answer up to this many seconds until its status or code changes',
      examples: [30],
    }),
  ),
});

export const maxPageSize = 100;

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: maxPageSize, default: 20, examples: [20] }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0, examples: [0] }),
    status: Type.Optional(Status),
  },
  { additionalProperties: false },
);

export const ActivationResponse = okSchema(Type.Object({ activation: ActivationJson }));
export const ActivationWithMessagesResponse = okSchema(
  Type.Object({ activation: Type.Object({ ...ActivationJson.properties, messages: Type.Array(MessageJson) }) }),
);
export const ActivationListResponse = okSchema(
  Type.Object({
    activations: Type.Array(ActivationJson),
    total: Type.Integer({ examples: [1] }),
    limit: Type.Integer({ examples: [20] }),
    offset: Type.Integer({ examples: [0] }),
  }),
);

export const ReportReason = Type.Union([Type.Literal('used'), Type.Literal('blocked'), Type.Literal('no_sms'), Type.Literal('other')], {
  description:
    '`used`: the number is already registered with the service; `blocked`: the service refuses it (both cancel the activation at once with a full refund); ' +
    '`no_sms`: no code comes; `other`: anything else (both recorded, the activation goes on waiting)',
  examples: ['used'],
});

export const maxReportNoteLength = 500;

export const ReportBody = Type.Object(
  {
    reason: ReportReason,
    note: Type.Optional(Type.String({ maxLength: maxReportNoteLength, description: 'What happened, in your words', examples: ['Telegram says the number is already in use'] })),
  },
  { additionalProperties: false },
);

export const ReportJson = Type.Object({
  reason: ReportReason,
  note: Type.Union([Type.String(), Type.Null()], { examples: ['Telegram says the number is already in use'] }),
  refunded: Type.Boolean({ description: 'Whether the report cancelled the activation with a full refund', examples: [true] }),
  created_at: Type.String({ description: 'UTC, "YYYY-MM-DD HH:MM:SS"', examples: ['2026-06-02 10:01:00'] }),
});

export const ReportResponse = okSchema(Type.Object({ activation: ActivationJson, report: ReportJson }));
