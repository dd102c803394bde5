import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../http/auth.ts';
import { ok } from '../../http/envelope.ts';
import { BalanceResponse } from './billing.schema.ts';
import type { BillingService } from './billing.service.ts';
import { toUsdNumber } from './money.ts';

export const billingRoutes: FastifyPluginAsyncTypebox<{ billing: BillingService }> = async (app, { billing }) => {
  app.get('/balance', { schema: { summary: 'Your company balance', tags: ['billing'], response: { 200: BalanceResponse } } }, async (request) =>
    ok({ balance: toUsdNumber(await billing.balanceOf(principalOf(request).companyId)), currency: 'USD' as const }),
  );
};
