import type { Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok } from '../../http/envelope.ts';
import { toUsdNumber } from '../billing/money.ts';
import type { CatalogService, PriceRow } from './catalog.service.ts';
import { CountriesResponse, PricesQuery, PricesResponse, ServicesResponse } from './catalog.schema.ts';

// The written answer per rows array: catalog.prices() hands out the same rows while neither the
// catalog nor the stock count changed.
const writtenAnswers = new WeakMap<PriceRow[], { single?: string; table?: string }>();

function priceJson(row: PriceRow) {
  return {
    service: row.serviceCode,
    country: row.countryId,
    price: toUsdNumber(row.price),
    available: row.available,
    in_stock: row.available > 0,
  };
}

export const catalogRoutes: FastifyPluginAsyncTypebox<{ catalog: CatalogService }> = async (app, { catalog }) => {
  app.get('/services', { schema: { summary: 'Services you can buy numbers for', tags: ['catalog'], response: { 200: ServicesResponse } } }, async () =>
    ok({ services: await catalog.services() }),
  );

  app.get('/countries', { schema: { summary: 'Countries, by numeric id', tags: ['catalog'], response: { 200: CountriesResponse } } }, async () =>
    ok({
      countries: (await catalog.countries()).map((c) => ({ id: c.id, name: c.name, iso: c.iso, prefix: `+${c.dialPrefix}` })),
    }),
  );

  app.get(
    '/prices',
    {
      schema: {
        summary: 'Price and availability; one row with service and country, the table otherwise',
        tags: ['catalog'],
        querystring: PricesQuery,
        response: { 200: PricesResponse },
        errors: ['unknown_service', 'unknown_country'],
      },
    },
    async (request, reply) => {
      const { service, country } = request.query;
      const filter = { serviceCode: service, countryId: country };
      // From memory without a promise when the catalog and the stock count are held (nearly always).
      const rows = catalog.pricesFromMemory(filter) ?? (await catalog.prices(filter));
      const single = service !== undefined && country !== undefined;
      let written = writtenAnswers.get(rows)?.[single ? 'single' : 'table'];
      if (written === undefined) {
        // Both known (prices() checked) but not sold there: say so as an empty offer, not an error.
        const answer = single ? ok(rows[0] ? priceJson(rows[0]) : { service, country, price: 0, available: 0, in_stock: false }) : ok({ prices: rows.map(priceJson) });
        written = JSON.stringify(answer);
        if (rows.length > 0) writtenAnswers.set(rows, { ...writtenAnswers.get(rows), [single ? 'single' : 'table']: written });
      }
      // Already JSON, sent as it is (Fastify does not serialize a string with a JSON content type):
      // the answer is a union (one row, or the table), which the compiled serializer would validate
      // against the branches on every answer; priceJson builds exactly the documented shapes. The
      // typed reply wants the object the string holds.
      return reply.type('application/json; charset=utf-8').send(written as unknown as Static<typeof PricesResponse>);
    },
  );
};
