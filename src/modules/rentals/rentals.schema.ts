import { type Static, Type } from '@sinclair/typebox';
import { okSchema } from '../../http/envelope.ts';
import { maxWaitSeconds } from '../../events/long-poll.ts';
import { maxRentalHours, minRentalHours } from './rental-price.ts';

// The statuses of rentals.tables.ts, as literals (a mapped array would lose their types).
const Status = Type.Union([Type.Literal('active'), Type.Literal('finished'), Type.Literal('cancelled'), Type.Literal('expired')], { examples: ['active'] });

const apiTime = (example: string, description = 'UTC, "YYYY-MM-DD HH:MM:SS"') => Type.String({ description, examples: [example] });

export const RentalJson = Type.Object(
  {
    id: Type.Integer({ examples: [45] }),
    type: Type.Literal('rent'),
    number: Type.String({ description: 'E.164', examples: ['+12025550123'] }),
    country: Type.Integer({ examples: [6] }),
    operator: Type.String({ examples: ['any'] }),
    price: Type.Number({ description: 'USD: everything charged so far (the first period and every extension)', examples: [2.5] }),
    status: Status,
    hours: Type.Integer({ description: 'Hours paid for so far', examples: [24] }),
    created_at: apiTime('2026-06-02 10:00:00'),
    expires_at: apiTime('2026-06-03 10:00:00'),
    finished_at: Type.Union([Type.String(), Type.Null()], { description: 'UTC; null while active', examples: [null] }),
  },
  { additionalProperties: false },
);

export const RentalMessageJson = Type.Object({
  id: Type.Integer({ examples: [456] }),
  from: Type.String({ examples: ['Telegram'] }),
  text: Type.String({ examples: ['Telegram code: 12345'] }),
  code: Type.Union([Type.String(), Type.Null()], { examples: ['12345'] }),
  received_at: apiTime('2026-06-02 10:01:30'),
});

const RentalWithMessages = Type.Object({ ...RentalJson.properties, messages: Type.Array(RentalMessageJson) }, { additionalProperties: false });

const Hours = (description: string) => Type.Integer({ minimum: minRentalHours, maximum: maxRentalHours, description, examples: [24] });

export const RentBody = Type.Object(
  {
    country_id: Type.Integer({ minimum: 0, maximum: 100000, examples: [6] }),
    hours: Hours('How long to rent the number, 1 to 720 hours'),
    operator: Type.Optional(Type.String({ minLength: 1, maxLength: 64, examples: ['any'] })),
  },
  { additionalProperties: false },
);
export type RentBody = Static<typeof RentBody>;

export const RentHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'Retrying with the same key returns the first rental instead of renting again',
      examples: ['rent-42'],
    }),
  ),
});

export const ExtendBody = Type.Object({ hours: Hours('Hours to add, 1 to 720') }, { additionalProperties: false });

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, examples: [45] }) });

export const WaitQuery = Type.Object(
  {
    wait: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: maxWaitSeconds,
        description: 'Long-poll: while the rental is active, hold the answer up to this many seconds until a message arrives or it changes',
        examples: [30],
      }),
    ),
    after: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description:
          'With `wait`: the id of the newest message the client already has. When the rental already has a newer message, ' +
          'the answer comes at once; otherwise it waits as without `after`',
        examples: [456],
      }),
    ),
  },
  { additionalProperties: false },
);

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, examples: [20] }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0, examples: [0] }),
    status: Type.Optional(Status),
  },
  { additionalProperties: false },
);

export const PricesQuery = Type.Object(
  { country: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000, examples: [6] })) },
  { additionalProperties: false },
);

export const RentalPriceJson = Type.Object({
  country: Type.Integer({ examples: [6] }),
  operator: Type.String({ description: '"any": the country\'s price, for numbers of every operator', examples: ['any'] }),
  price_per_hour: Type.Number({ description: 'USD', examples: [0.2] }),
  price_per_day: Type.Number({ description: 'USD; a day (24 h) costs this, and so does any rest of hours beyond it', examples: [2.5] }),
  available: Type.Integer({ description: 'Numbers free to rent now', examples: [12] }),
});

export const RentalPricesResponse = okSchema(Type.Object({ prices: Type.Array(RentalPriceJson) }));
export const RentalResponse = okSchema(Type.Object({ rental: RentalWithMessages }));
export const RentalListResponse = okSchema(
  Type.Object({
    rentals: Type.Array(RentalJson),
    total: Type.Integer({ examples: [1] }),
    limit: Type.Integer({ examples: [20] }),
    offset: Type.Integer({ examples: [0] }),
  }),
);
