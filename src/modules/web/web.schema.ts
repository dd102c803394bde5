import { Type } from '@sinclair/typebox';

/** Website routes stay out of the public OpenAPI document. */
export const hide = { hide: true } as const;

const Email = Type.String({ minLength: 3, maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 200 });
const Role = Type.Union([Type.Literal('owner'), Type.Literal('member')]);
// Serial (32-bit) ids: a larger number would make PostgreSQL fail the query instead of answering 404.
const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
// Beyond it PostgreSQL's bigint OFFSET overflows; no page is that far anyway.
const Offset = Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 });

export const SignUpBody = Type.Object({ email: Email, password: Password, company_name: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false });
export const ConfirmSignUpBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const SignInBody = Type.Object({ email: Email, password: Password }, { additionalProperties: false });
export const ResetRequestBody = Type.Object({ email: Type.String({ maxLength: 254 }) }, { additionalProperties: false });
export const ResetConfirmBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }), password: Password }, { additionalProperties: false });
export const InviteParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
export const AcceptInviteBody = ResetConfirmBody;
export const InviteBody = Type.Object({ email: Email, role: Role }, { additionalProperties: false });
export const RoleBody = Type.Object({ role: Role }, { additionalProperties: false });
export const IdParams = Type.Object({ id: Id });
export const PageQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Offset,
});
const Status = Type.Union(['waiting', 'sms_received', 'completed', 'cancelled', 'expired'].map((s) => Type.Literal(s)));
export const ActivationsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Offset,
  status: Type.Optional(Status),
});
export const CsvQuery = Type.Object({ status: Type.Optional(Status) });
export const BuyBody = Type.Object(
  { service_code: Type.String({ minLength: 1, maxLength: 32 }), country_id: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }), operator: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);
export const TopupBody = Type.Object({ amount: Type.Number({ exclusiveMinimum: 0 }) }, { additionalProperties: false });
export const ChatMessagesQuery = Type.Object({ after: Type.Integer({ minimum: 0, default: 0 }) });
export const ChatLiveQuery = Type.Object({ visitor_token: Type.String({ maxLength: 200 }), after: Type.Integer({ minimum: 0, default: 0 }) });
// The size limit is checked by the support service (with a clear message), not here.
// The website path the visitor is on (location.pathname), shown to the agent.
const ChatPage = Type.String({ maxLength: 300, pattern: '^/' });
export const ChatStartBody = Type.Union([Type.Object({ page: Type.Optional(ChatPage) }, { additionalProperties: false }), Type.Null()]);
export const ChatMessageBody = Type.Object({ text: Type.String({ maxLength: 20_000 }), page: Type.Optional(ChatPage) }, { additionalProperties: false });
export const FeedbackBody = Type.Object(
  {
    rating: Type.Integer({ minimum: 1, maximum: 5 }),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
    context: Type.Union([Type.Literal('activation'), Type.Literal('chat'), Type.Literal('general')]),
    reference: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
