import { Type } from '@sinclair/typebox';
import { okSchema } from '../../http/envelope.ts';

export const ServicesResponse = okSchema(
  Type.Object({
    services: Type.Array(Type.Object({ code: Type.String({ examples: ['tg'] }), name: Type.String({ examples: ['Telegram'] }) })),
  }),
);

export const CountriesResponse = okSchema(
  Type.Object({
    countries: Type.Array(
      Type.Object({
        id: Type.Integer({ examples: [6] }),
        name: Type.String({ examples: ['United States'] }),
        iso: Type.String({ examples: ['US'] }),
        prefix: Type.String({ examples: ['+1'] }),
      }),
    ),
  }),
);

export const PricesQuery = Type.Object(
  {
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 32, examples: ['tg'] })),
    country: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000, examples: [6] })),
  },
  { additionalProperties: false },
);

export const PriceJson = Type.Object({
  service: Type.String({ examples: ['tg'] }),
  country: Type.Integer({ examples: [6] }),
  price: Type.Number({ examples: [0.5] }),
  available: Type.Integer({ examples: [240] }),
  in_stock: Type.Boolean({ examples: [true] }),
});

/** One price when both filters are given (as the spec shows), the table otherwise. */
export const PricesResponse = okSchema(Type.Union([PriceJson, Type.Object({ prices: Type.Array(PriceJson) })]));
