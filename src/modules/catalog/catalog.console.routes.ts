import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { type Money, toUsdNumber } from '../billing/money.ts';
import { actorOf } from '../console/staff-auth.ts';
import type { CountryEntry, OperatorEntry, ServiceEntry } from './catalog-admin.service.ts';
import { checkMargin, checkMarkupPercent, checkPrice } from './catalog-entries.ts';
import type { CatalogService } from './catalog.service.ts';
import type { GridRow, PriceFigures } from './pricing.service.ts';

/**
 * Catalog and pricing in the console (docs/console-api.md, "Catalog and pricing"): admins only.
 * Each change is audited by the catalog service in the change's transaction.
 */

const hide = { hide: true } as const;

const ServiceCode = Type.String({ minLength: 1, maxLength: 32 });
const CountryId = Type.Integer({ minimum: 0, maximum: 100000 });
const OperatorCode = Type.String({ minLength: 1, maxLength: 64 });
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Usd = Type.Union([Type.Number(), Type.String({ maxLength: 32 })]);
const strict = { additionalProperties: false } as const;

const ServiceBody = Type.Object({ code: ServiceCode, name: Name }, strict);
const ServiceParams = Type.Object({ code: ServiceCode }, strict);
const EntryChange = Type.Object({ name: Type.Optional(Name), enabled: Type.Optional(Type.Boolean()) }, strict);
const CountryBody = Type.Object(
  { id: CountryId, iso: Type.String({ minLength: 1, maxLength: 8 }), name: Type.Optional(Name), prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 8 })) },
  strict,
);
const CountryParams = Type.Object({ id: CountryId }, strict);
const OperatorBody = Type.Object({ country: CountryId, code: OperatorCode, name: Name }, strict);
const OperatorParams = Type.Object({ country: CountryId, code: OperatorCode }, strict);
const GridQuery = Type.Object({ service: Type.Optional(ServiceCode), country: Type.Optional(CountryId) }, strict);
const PriceBody = Type.Object({ service: ServiceCode, country: CountryId, price: Usd, operator: Type.Optional(OperatorCode) }, strict);
const OperatorPriceBody = Type.Object({ service: ServiceCode, country: CountryId, operator: OperatorCode }, strict);
const RuleBody = Type.Object(
  {
    service: ServiceCode,
    country: CountryId,
    mode: Type.Union([Type.Literal('markup'), Type.Literal('manual')]),
    markup_percent: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 16 })])),
    min_margin: Type.Optional(Usd),
  },
  strict,
);
// A catalog file is small (a few thousand rows); the body limit of the app applies on top.
const ImportBody = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: 2_000_000 }),
    format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('json')])),
    dry_run: Type.Optional(Type.Boolean()),
  },
  strict,
);

const serviceJson = (s: ServiceEntry) => ({ code: s.code, name: s.name, enabled: s.enabled });
const countryJson = (c: CountryEntry) => ({ id: c.id, name: c.name, iso: c.iso, prefix: `+${c.dialPrefix}`, enabled: c.enabled });
const operatorJson = (o: OperatorEntry) => ({ country: o.countryId, code: o.code, name: o.name, enabled: o.enabled });
const usd = (units: Money | null) => (units === null ? null : toUsdNumber(units));

function figuresJson(f: PriceFigures) {
  return { price: toUsdNumber(f.price), margin: usd(f.margin), margin_percent: f.marginPercent, below_cost: f.belowCost };
}

export function gridRowJson(row: GridRow) {
  return {
    service: row.serviceCode,
    service_name: row.serviceName,
    country: row.countryId,
    country_name: row.countryName,
    on_sale: row.onSale,
    cost: usd(row.cost),
    price: row.price ? toUsdNumber(row.price.price) : null,
    margin: row.price ? usd(row.price.margin) : null,
    margin_percent: row.price?.marginPercent ?? null,
    below_cost: row.price?.belowCost ?? false,
    rule: { mode: row.rule.mode, markup_percent: row.rule.markupBasisPoints / 100, min_margin: toUsdNumber(row.rule.minMargin) },
    stock: row.stock,
    operator_prices: row.operatorPrices.map((op) => ({ operator: op.operator, ...figuresJson(op) })),
  };
}

export const catalogConsoleRoutes: FastifyPluginAsyncTypebox<{ catalog: CatalogService }> = async (app, { catalog }) => {
  const { admin, pricing } = catalog;

  app.get('/catalog', { schema: hide }, async () => {
    const { services, countries, operators } = await admin.list();
    return ok({ services: services.map(serviceJson), countries: countries.map(countryJson), operators: operators.map(operatorJson) });
  });

  app.post('/catalog/services', { schema: { ...hide, body: ServiceBody } }, async (request) =>
    ok({ service: serviceJson(await admin.createService(actorOf(request), request.body)) }),
  );

  app.post('/catalog/services/:code', { schema: { ...hide, params: ServiceParams, body: EntryChange } }, async (request) =>
    ok({ service: serviceJson(await admin.updateService(actorOf(request), request.params.code, request.body)) }),
  );

  app.post('/catalog/countries', { schema: { ...hide, body: CountryBody } }, async (request) => {
    const { id, iso, name, prefix } = request.body;
    return ok({ country: countryJson(await admin.createCountry(actorOf(request), { id, iso, name, dialPrefix: prefix })) });
  });

  app.post('/catalog/countries/:id', { schema: { ...hide, params: CountryParams, body: EntryChange } }, async (request) =>
    ok({ country: countryJson(await admin.updateCountry(actorOf(request), request.params.id, request.body)) }),
  );

  app.post('/catalog/operators', { schema: { ...hide, body: OperatorBody } }, async (request) => {
    const { country, code, name } = request.body;
    return ok({ operator: operatorJson(await admin.createOperator(actorOf(request), { countryId: country, code, name })) });
  });

  app.post('/catalog/operators/:country/:code', { schema: { ...hide, params: OperatorParams, body: EntryChange } }, async (request) =>
    ok({ operator: operatorJson(await admin.updateOperator(actorOf(request), request.params.country, request.params.code, request.body)) }),
  );

  app.post('/catalog/import', { schema: { ...hide, body: ImportBody } }, async (request) => {
    const report = await catalog.importCatalog(actorOf(request), { content: request.body.content, format: request.body.format, dryRun: request.body.dry_run });
    return ok(report);
  });

  app.get('/pricing', { schema: { ...hide, querystring: GridQuery } }, async (request) => {
    const rows = await pricing.grid({ serviceCode: request.query.service, countryId: request.query.country });
    return ok({ rows: rows.map(gridRowJson) });
  });

  app.post('/pricing/price', { schema: { ...hide, body: PriceBody } }, async (request) => {
    const { service, country, price, operator } = request.body;
    const row = await pricing.setPrice(actorOf(request), { serviceCode: service, countryId: country, operator, price: checkPrice(price) });
    return ok({ row: gridRowJson(row) });
  });

  app.post('/pricing/operator-price/remove', { schema: { ...hide, body: OperatorPriceBody } }, async (request) => {
    const { service, country, operator } = request.body;
    return ok({ row: gridRowJson(await pricing.removeOperatorPrice(actorOf(request), { serviceCode: service, countryId: country, operator })) });
  });

  app.post('/pricing/rule', { schema: { ...hide, body: RuleBody } }, async (request) => {
    const { service, country, mode } = request.body;
    const rule =
      mode === 'markup'
        ? { mode, markupBasisPoints: checkMarkupPercent(request.body.markup_percent ?? ''), minMargin: checkMargin(request.body.min_margin ?? 0) }
        : { mode, markupBasisPoints: 0, minMargin: 0 };
    return ok({ row: gridRowJson(await pricing.setRule(actorOf(request), { serviceCode: service, countryId: country, ...rule })) });
  });
};
