import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { formatApiTime } from '../../time-format.ts';
import type { Principal } from '../accounts/accounts.service.ts';
import { toUsdNumber } from '../billing/money.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import type { WebHttp } from '../web/web-session.ts';
import { hide } from '../web/web.schema.ts';
import { rentalJson, rentalWithMessagesJson } from './rentals.routes.ts';
import type { Rental, RentalMessage, RentalsService } from './rentals.service.ts';
import { rentalStatuses, type RentalStatus } from './rentals.tables.ts';

// Rental ids are bigserial: the API's bound, not the website's 32-bit one.
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const CountryId = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });
// The service checks 1–720 too (with its own message); the schema keeps absurd numbers out.
const Hours = Type.Integer({ minimum: 1, maximum: 720 });
const Operator = Type.String({ maxLength: 64 });
const Status = Type.Union(rentalStatuses.map((s) => Type.Literal(s)));
const PricesQuery = Type.Object({ country_id: Type.Optional(CountryId) }, { additionalProperties: false });
const QuoteQuery = Type.Object({ country_id: CountryId, hours: Hours, operator: Type.Optional(Operator) }, { additionalProperties: false });
const RentBody = Type.Object({ country_id: CountryId, hours: Hours, operator: Type.Optional(Operator) }, { additionalProperties: false });
const ExtendBody = Type.Object({ hours: Hours }, { additionalProperties: false });
const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
    status: Type.Optional(Status),
  },
  { additionalProperties: false },
);
const CsvQuery = Type.Object({ status: Type.Optional(Status) }, { additionalProperties: false });

/** How long one wait of the live stream lasts before it re-reads the rental anyway. */
const liveWaitSeconds = 25;

function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  // A leading = + - @ would make a spreadsheet run the cell as a formula (SMS text comes from anyone).
  const safe = /^[=+\-@\t\r]/.test(text) && !/^[+-]?\d/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** What decides whether the live stream has news: status, expiry, hours and the messages. */
function signature({ rental, messages }: { rental: Rental; messages: RentalMessage[] }): string {
  return `${rental.status}|${rental.expiresAt.getTime()}|${rental.hours}|${messages.length}|${messages[0]?.id ?? 0}`;
}

/**
 * Website: renting numbers by the hour (same service, same rules and visibility as API v1), the
 * rental price list with stock, CSV export, and a live stream of one rental's messages.
 */
export const rentalsWebRoutes: FastifyPluginAsyncTypebox<{ web: WebHttp; rentals: RentalsService; catalog: CatalogService }> = async (
  app,
  { web, rentals, catalog },
) => {
  const fullJson = ({ rental, messages }: { rental: Rental; messages: RentalMessage[] }) => rentalWithMessagesJson(rental, messages);

  // The price list is public like the activation prices (/api/web/prices): it names no customer.
  app.get('/rentals/prices', { schema: { ...hide, querystring: PricesQuery } }, async (request) => {
    const [prices, countryList] = await Promise.all([rentals.prices(request.query.country_id), catalog.countries()]);
    const countryById = new Map(countryList.map((c) => [c.id, c]));
    return ok({
      prices: prices.map((row) => ({
        country: row.countryId,
        country_name: countryById.get(row.countryId)?.name ?? String(row.countryId),
        country_iso: countryById.get(row.countryId)?.iso ?? '',
        operator: row.operator,
        price_per_hour: toUsdNumber(row.pricePerHour),
        price_per_day: toUsdNumber(row.pricePerDay),
        available: row.available,
      })),
    });
  });

  app.get('/rentals/quote', { schema: { ...hide, querystring: QuoteQuery } }, async (request, reply) => {
    await web.requireSession(request, reply);
    const { country_id: countryId, hours } = request.query;
    const operator = request.query.operator?.trim() || undefined;
    const price = await rentals.quote(countryId, operator, hours);
    return ok({ country: countryId, operator: operator ?? 'any', hours, price: toUsdNumber(price) });
  });

  app.post('/rentals', { schema: { ...hide, body: RentBody } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const rental = await rentals.create(principal, {
      countryId: request.body.country_id,
      hours: request.body.hours,
      operator: request.body.operator?.trim() || undefined,
    });
    return reply.status(201).send(ok({ rental: rentalJson(rental) }));
  });

  app.get('/rentals', { schema: { ...hide, querystring: ListQuery } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const { limit, offset, status } = request.query;
    const page = await rentals.list(principal, { limit, offset, status: status as RentalStatus | undefined });
    return ok({ rentals: page.rentals.map(rentalJson), total: page.total, limit, offset });
  });

  app.get('/rentals.csv', { schema: { ...hide, querystring: CsvQuery } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const status = request.query.status as RentalStatus | undefined;
    const lines = ['id,number,country,operator,price,status,hours,created_at,expires_at,finished_at'];
    for (let offset = 0; offset < 10_000; offset += 100) {
      const page = await rentals.list(principal, { limit: 100, offset, status });
      for (const r of page.rentals) {
        lines.push(
          [
            r.id,
            r.number,
            r.countryId,
            r.operator,
            toUsdNumber(r.price),
            r.status,
            r.hours,
            formatApiTime(r.createdAt),
            formatApiTime(r.expiresAt),
            r.finishedAt ? formatApiTime(r.finishedAt) : null,
          ]
            .map(csvField)
            .join(','),
        );
      }
      if (page.rentals.length < 100) break;
    }
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="nova-rentals.csv"')
      .send(`${lines.join('\r\n')}\r\n`);
  });

  app.get('/rentals/:id', { schema: { ...hide, params: IdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ rental: fullJson(await rentals.get(principal, request.params.id)) });
  });

  app.post('/rentals/:id/extend', { schema: { ...hide, params: IdParams, body: ExtendBody } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ rental: rentalJson(await rentals.extend(principal, request.params.id, request.body.hours)) });
  });

  app.post('/rentals/:id/cancel', { schema: { ...hide, params: IdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ rental: rentalJson(await rentals.cancel(principal, request.params.id)) });
  });

  app.post('/rentals/:id/finish', { schema: { ...hide, params: IdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ rental: rentalJson(await rentals.finish(principal, request.params.id)) });
  });

  // Live messages of one rental (server-sent events): event `rental` with the full rental (as GET
  // /rentals/:id) at once and after every change. It waits on the rentals service's long-poll
  // (woken across instances), re-reading after each wait so nothing between two waits is lost.
  // The stream ends once the rental has ended: no message can come any more.
  app.get('/rentals/:id/live', { schema: { ...hide, params: IdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const id = request.params.id;
    // Before the stream opens: a rental the visitor cannot see is an ordinary 404.
    const first = await rentals.get(principal, id);
    const token = web.sessionToken(request);
    const stream = web.openEventStream(request, reply);
    const gone = new AbortController();
    stream.onClose(() => gone.abort());
    void follow(principal, id, first, token, stream, gone.signal).catch((error: unknown) => {
      request.log.warn({ err: error }, 'rental live stream failed');
      stream.end();
    });
  });

  async function follow(
    principal: Principal,
    id: number,
    first: { rental: Rental; messages: RentalMessage[] },
    token: string,
    stream: ReturnType<WebHttp['openEventStream']>,
    signal: AbortSignal,
  ) {
    let current = first;
    let sent = signature(current);
    stream.send('rental', { rental: fullJson(current) });
    while (!signal.aborted && current.rental.status === 'active') {
      const started = Date.now();
      // With the count we have, a message that came between two waits answers the next one at once.
      const next = await rentals.wait(principal, id, { seconds: liveWaitSeconds, signal, afterMessages: current.messages.length });
      if (!next || signal.aborted) return;
      // A wait that came back at once without news must not turn into a busy loop.
      if (signature(next) === sent && Date.now() - started < 500) await new Promise((resolve) => setTimeout(resolve, 1000));
      // The session is checked again after every wait: signing out ends the stream.
      if (!(await web.resolveToken(token).catch(() => null))) return stream.end();
      current = next;
      const now = signature(current);
      if (now !== sent) {
        sent = now;
        stream.send('rental', { rental: fullJson(current) });
      }
    }
    if (!signal.aborted) stream.end();
  }
};
