import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.ts';
import type { AccountsService } from '../accounts/accounts.service.ts';
import { teamWebRoutes } from '../accounts/team.web.routes.ts';
import { activationsWebRoutes } from '../activations/activations.web.routes.ts';
import type { ActivationsService } from '../activations/activations.service.ts';
import { billingWebRoutes } from '../billing/billing.web.routes.ts';
import type { BillingService } from '../billing/billing.service.ts';
import { catalogWebRoutes } from '../catalog/catalog.web.routes.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import { paymentsWebRoutes, stripeWebhookPath } from '../payments/payments.web.routes.ts';
import { rentalsWebRoutes } from '../rentals/rentals.web.routes.ts';
import type { RentalsService } from '../rentals/rentals.service.ts';
import type { PaymentsService } from '../payments/payments.service.ts';
import { supportWebRoutes } from '../support/support.web.routes.ts';
import type { SupportService } from '../support/support.service.ts';
import { webhooksWebRoutes } from '../webhooks/webhooks.web.routes.ts';
import type { WebhooksService } from '../webhooks/webhooks.service.ts';
import { webSessionsWebRoutes } from '../web-sessions/web-sessions.web.routes.ts';
import type { WebSessionsService } from '../web-sessions/web-sessions.service.ts';
import { registerWebSession } from './web-session.ts';

/** The services the website's routes use, each by its own interface. */
export interface WebRoutesServices {
  accounts: AccountsService;
  activations: ActivationsService;
  billing: BillingService;
  catalog: CatalogService;
  payments: PaymentsService;
  rentals: RentalsService;
  support: SupportService;
  webhooks: WebhooksService;
  webSessions: WebSessionsService;
}

export interface WebRoutesOptions {
  config: Config;
  services: WebRoutesServices;
  /** Redis key prefix for the website's rate limits. */
  redisKeyPrefix: string;
}

/**
 * The website's JSON API under /api/web (docs/web-api.md): a session cookie instead of an API key,
 * mapped to the same Principal the API uses; every rule stays in the domain services. The shared
 * layer (cookie, CSRF, session check) is in web-session.ts; each noun's routes live in its module.
 */
export const webRoutes: FastifyPluginAsyncTypebox<WebRoutesOptions> = async (app, { config, services, redisKeyPrefix }) => {
  const { accounts, activations, billing, catalog, payments, rentals, support, webhooks, webSessions } = services;
  const web = await registerWebSession(app, { config, webSessions, redisKeyPrefix, csrfExemptPaths: [stripeWebhookPath] });

  await app.register(webSessionsWebRoutes, { web, webSessions, signInLimits: config.signInLimits });
  await app.register(catalogWebRoutes, { catalog });
  await app.register(billingWebRoutes, { web, billing });
  await app.register(activationsWebRoutes, { web, activations });
  await app.register(rentalsWebRoutes, { web, rentals, catalog });
  await app.register(teamWebRoutes, { web, accounts, webSessions, activations, apiRateLimit: config.rateLimit });
  await app.register(webhooksWebRoutes, { web, webhooks });
  await app.register(paymentsWebRoutes, { web, payments });
  await app.register(supportWebRoutes, { web, support });
};
