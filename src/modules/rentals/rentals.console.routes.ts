import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { toUsdNumber } from '../billing/money.ts';
import { checkPrice } from '../catalog/catalog-entries.ts';
import { actorOf } from '../console/staff-auth.ts';
import type { RentalPrice, RentalsService } from './rentals.service.ts';

/**
 * Rental prices in the console (the Catalog page, "Rental prices" tab): admins only, like the
 * other catalog routes. Each change is audited (rental_price.set) by the rentals service in the
 * change's transaction, before → after.
 */

const hide = { hide: true } as const;
const strict = { additionalProperties: false } as const;
const Usd = Type.Union([Type.Number(), Type.String({ maxLength: 32 })]);

const ListQuery = Type.Object({ country: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })) }, strict);
const SetBody = Type.Object(
  {
    country: Type.Integer({ minimum: 0, maximum: 100000 }),
    operator: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    price_per_hour: Usd,
    price_per_day: Usd,
  },
  strict,
);

export const rentalPriceJson = (row: RentalPrice) => ({
  country: row.countryId,
  operator: row.operator,
  price_per_hour: toUsdNumber(row.pricePerHour),
  price_per_day: toUsdNumber(row.pricePerDay),
  available: row.available,
});

export const rentalsConsoleRoutes: FastifyPluginAsyncTypebox<{ rentals: RentalsService }> = async (app, { rentals }) => {
  app.get('/rental-prices', { schema: { ...hide, querystring: ListQuery } }, async (request) =>
    ok({ prices: (await rentals.prices(request.query.country)).map(rentalPriceJson) }),
  );

  app.post('/rental-prices', { schema: { ...hide, body: SetBody } }, async (request) => {
    const { country, operator, price_per_hour, price_per_day } = request.body;
    const price = await rentals.setPrice(
      {
        countryId: country,
        operator,
        pricePerHour: checkPrice(price_per_hour, 'Price per hour'),
        pricePerDay: checkPrice(price_per_day, 'Price per day'),
      },
      actorOf(request),
    );
    return ok({ price: rentalPriceJson(price) });
  });
};
