import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type ActivationEvent } from '../../events/domain-events.ts';
import { activationChannel } from '../../events/pubsub.ts';
import { ok } from '../../http/envelope.ts';
import { formatApiTime } from '../../time-format.ts';
import type { Principal } from '../accounts/accounts.service.ts';
import { toUsdNumber } from '../billing/money.ts';
import type { WebHttp } from '../web/web-session.ts';
import * as schema from '../web/web.schema.ts';
import { hide } from '../web/web.schema.ts';
import { activationJson, messageJson, reportJson } from './activations.routes.ts';
// Activation ids are bigserial: the API's bound, not the website's 32-bit one.
import { IdParams, ReportBody } from './activations.schema.ts';
import type { Activation, ActivationsService } from './activations.service.ts';

function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Website: buying and following activations (same service, same visibility as API v1), CSV export, live updates. */
export const activationsWebRoutes: FastifyPluginAsyncTypebox<{ web: WebHttp; activations: ActivationsService }> = async (app, { web, activations }) => {
  const fullActivation = async (principal: Principal, id: number) => {
    const { activation, messages } = await activations.get(principal, id);
    return { ...activationJson(activation, activations), messages: messages.map(messageJson) };
  };

  app.post('/activations', { schema: { ...hide, body: schema.BuyBody } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const activation = await activations.buy(principal, {
      serviceCode: request.body.service_code,
      countryId: request.body.country_id,
      operator: request.body.operator || undefined,
    });
    return reply.status(201).send(ok({ activation: activationJson(activation, activations) }));
  });

  app.get('/activations', { schema: { ...hide, querystring: schema.ActivationsQuery } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const { limit, offset, status } = request.query;
    const page = await activations.list(principal, { limit, offset, status: status as Activation['status'] | undefined });
    const reports = await activations.reportsOf(principal, page.activations.map((a) => a.id));
    return ok({
      activations: page.activations.map((a) => {
        const report = reports.get(a.id);
        return { ...activationJson(a, activations), report: report ? reportJson(report) : null };
      }),
      total: page.total,
      limit,
      offset,
    });
  });

  app.get('/activations.csv', { schema: { ...hide, querystring: schema.CsvQuery } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const status = request.query.status as Activation['status'] | undefined;
    const lines = ['id,number,service,country,price,status,code,created_at,expires_at,reused_from,report_reason,report_refunded'];
    for (let offset = 0; offset < 10_000; offset += 100) {
      const page = await activations.list(principal, { limit: 100, offset, status });
      const reports = await activations.reportsOf(principal, page.activations.map((a) => a.id));
      for (const a of page.activations) {
        const report = reports.get(a.id);
        lines.push(
          [
            a.id,
            a.number,
            a.serviceCode,
            a.countryId,
            toUsdNumber(a.price),
            a.status,
            a.code,
            formatApiTime(a.createdAt),
            formatApiTime(a.expiresAt),
            a.reusedFrom,
            report?.reason ?? null,
            report ? String(report.refunded) : null,
          ]
            .map(csvField)
            .join(','),
        );
      }
      if (page.activations.length < 100) break;
    }
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="nova-activations.csv"')
      .send(`${lines.join('\r\n')}\r\n`);
  });

  app.get('/activations/:id', { schema: { ...hide, params: IdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ activation: await fullActivation(principal, request.params.id) });
  });

  app.post('/activations/:id/cancel', { schema: { ...hide, params: IdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ activation: activationJson(await activations.cancel(principal, request.params.id), activations) });
  });

  app.post('/activations/:id/complete', { schema: { ...hide, params: IdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ activation: activationJson(await activations.complete(principal, request.params.id), activations) });
  });

  // "Buy again": the number of a completed activation, as a new activation (the API's rules).
  app.post('/activations/:id/reuse', { schema: { ...hide, params: IdParams } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const activation = await activations.reuse(principal, request.params.id);
    return reply.status(201).send(ok({ activation: activationJson(activation, activations) }));
  });

  app.post('/activations/:id/report', { schema: { ...hide, params: IdParams, body: ReportBody } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const { activation, report } = await activations.report(principal, request.params.id, request.body);
    return ok({ activation: activationJson(activation, activations), report: reportJson(report) });
  });

  // Live activation changes, pushed from pub/sub (works across instances; no database
  // connection held while waiting).
  app.get('/live', { schema: hide }, async (request, reply) => {
    await web.requireSession(request, reply);
    const token = web.sessionToken(request);
    const stream = web.openEventStream(request, reply);
    let chain = Promise.resolve();
    const unsubscribe = app.pubsub.subscribe(activationChannel, (message) => {
      chain = chain.then(async () => {
        let event: ActivationEvent;
        try {
          event = JSON.parse(message) as ActivationEvent;
        } catch {
          return;
        }
        // The session is checked again on every event: signing out (or losing access) ends the stream.
        const session = await web.resolveToken(token).catch(() => null);
        if (!session) return stream.end();
        const { principal } = session;
        if (event.companyId !== principal.companyId) return;
        if (principal.role !== 'owner' && event.accountId !== principal.accountId) return;
        try {
          stream.send('activation', { activation: await fullActivation(principal, event.activationId) });
        } catch {
          // Not visible (any more): nothing to push.
        }
      });
    });
    stream.onClose(unsubscribe);
  });
};
