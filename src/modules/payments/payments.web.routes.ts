import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok } from '../../http/envelope.ts';
import { AppError } from '../../http/errors.ts';
import { toUsdNumber, usdNumberToUnits } from '../billing/money.ts';
import type { WebHttp } from '../web/web-session.ts';
import { hide, TopupBody } from '../web/web.schema.ts';
import { type PaymentsService, topupLimits } from './payments.service.ts';

/** Stripe's webhook: authenticated by its signature, so it is exempt from the website's CSRF check. */
export const stripeWebhookPath = '/stripe/webhook';

/** Website: balance top-ups, and Stripe's webhook that credits a paid one. */
export const paymentsWebRoutes: FastifyPluginAsyncTypebox<{ web: WebHttp; payments: PaymentsService }> = async (app, { web, payments }) => {
  app.get('/topup', { schema: hide }, async (request, reply) => {
    await web.requireSession(request, reply);
    return ok({ provider: payments.provider?.name ?? 'none', min_amount: toUsdNumber(topupLimits.min), max_amount: toUsdNumber(topupLimits.max) });
  });

  app.post('/topup', { schema: { ...hide, body: TopupBody } }, async (request, reply) => {
    const { principal } = await web.requireSession(request, reply);
    const amount = usdNumberToUnits(request.body.amount);
    if (amount === null) throw new AppError('invalid_request', 'body.amount must be a USD amount with at most 2 decimals');
    const result = await payments.startTopup({
      companyId: principal.companyId,
      accountId: principal.accountId,
      amount,
      returnUrl: `${web.publicUrl(request)}/topup`,
    });
    if ('checkoutUrl' in result) return ok({ checkout_url: result.checkoutUrl });
    return ok({ credited: true, balance: toUsdNumber(result.balance), label: 'Demo payment' });
  });

  // Stripe signs the exact bytes it sent: this route gets the raw body.
  await app.register(async (webhook) => {
    webhook.removeContentTypeParser('application/json');
    webhook.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    webhook.post(stripeWebhookPath, { schema: hide }, async (request) => {
      const signature = request.headers['stripe-signature'];
      if (typeof signature !== 'string') throw new AppError('invalid_request', 'Missing Stripe-Signature header');
      const result = await payments.handleStripeWebhook(request.body as Buffer, signature);
      return ok({ received: true, credited: result.credited });
    });
  });
};
