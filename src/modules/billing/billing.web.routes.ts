import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok } from '../../http/envelope.ts';
import { formatApiTime } from '../../time-format.ts';
import type { WebHttp } from '../web/web-session.ts';
import { hide, PageQuery } from '../web/web.schema.ts';
import type { BillingService } from './billing.service.ts';
import { toUsdNumber } from './money.ts';

/** Website: the signed-in company's balance and transactions. */
export const billingWebRoutes: FastifyPluginAsyncTypebox<{ web: WebHttp; billing: BillingService }> = async (app, { web, billing }) => {
  app.get('/balance', { schema: hide }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    return ok({ balance: toUsdNumber(await billing.balanceOf(principal.companyId)), currency: 'USD' });
  });

  app.get('/transactions', { schema: { ...hide, querystring: PageQuery } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const { limit, offset } = request.query;
    const [rows, total] = await Promise.all([billing.ledger(principal.companyId, { limit, offset }), billing.ledgerSize(principal.companyId)]);
    return ok({
      transactions: rows.map((row) => ({
        id: row.id,
        kind: row.kind,
        amount: toUsdNumber(row.amount),
        balance_after: toUsdNumber(row.balanceAfter),
        reason: row.reason,
        created_at: formatApiTime(row.createdAt),
      })),
      total,
      limit,
      offset,
    });
  });
};
