import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok } from '../../http/envelope.ts';
import { toUsdNumber } from '../billing/money.ts';
import { hide } from '../web/web.schema.ts';
import type { CatalogService } from './catalog.service.ts';

/** Website: the public price list (no session needed). */
export const catalogWebRoutes: FastifyPluginAsyncTypebox<{ catalog: CatalogService }> = async (app, { catalog }) => {
  app.get('/prices', { schema: hide }, async () => {
    const [prices, serviceList, countryList] = await Promise.all([catalog.prices({}), catalog.services(), catalog.countries()]);
    const serviceNames = new Map(serviceList.map((s) => [s.code, s.name]));
    const countryById = new Map(countryList.map((c) => [c.id, c]));
    return ok({
      prices: prices.map((row) => ({
        service: row.serviceCode,
        service_name: serviceNames.get(row.serviceCode) ?? row.serviceCode,
        country: row.countryId,
        country_name: countryById.get(row.countryId)?.name ?? String(row.countryId),
        country_iso: countryById.get(row.countryId)?.iso ?? '',
        price: toUsdNumber(row.price),
        available: row.available,
        in_stock: row.available > 0,
      })),
    });
  });
};
