import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Redis } from 'ioredis';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { createDomainEvents } from './events/domain-events.ts';
import { activationChannel, createInProcessPubSub, createRedisPubSub, type PubSub } from './events/pubsub.ts';
import { apiKeyAuthentication } from './http/auth.ts';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http/error-handler.ts';
import { healthRoutes, reportRedisOutages } from './http/health.ts';
import { metricsRoutes, registerRequestMetrics } from './http/metrics-endpoint.ts';
import type { AppMetrics } from './metrics.ts';
import { registerOpenApi } from './http/openapi.ts';
import { registerNoStore } from './http/no-store.ts';
import { registerHttpsRequired } from './http/https-required.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { type ApiKeyRateLimiterStats, createApiKeyRateLimiter } from './http/api-key-rate-limit.ts';
import { registerValidation } from './http/validation.ts';
import { createLogging, lazyRequestLogger, registerRequestIds, requestIdGenerator } from './http/request-logging.ts';
import { websiteRoutes } from './http/website.ts';
import { createAccountsService } from './modules/accounts/accounts.service.ts';
import { createPasswordHasher } from './modules/accounts/password.ts';
import { createCustomersService } from './modules/accounts/customers.service.ts';
import { activationsRoutes } from './modules/activations/activations.routes.ts';
import { type ActivationsService, createActivationsService } from './modules/activations/activations.service.ts';
import { createActivationChanges } from './modules/activations/activation-changes.ts';
import { billingRoutes } from './modules/billing/billing.routes.ts';
import { createBillingService } from './modules/billing/billing.service.ts';
import { catalogRoutes } from './modules/catalog/catalog.routes.ts';
import { createCatalogService } from './modules/catalog/catalog.service.ts';
import { supplyRoutes } from './modules/supply/supply.routes.ts';
import { androidGatewayRoutes } from './modules/supply/android-gateway/android-gateway.routes.ts';
import { smshubRoutes } from './modules/supply/smshub/smshub.routes.ts';
import { createSupplyService } from './modules/supply/supply.service.ts';
import { createSupplyConsoleService } from './modules/supply/supply-console.service.ts';
import { createActivationsMonitorService } from './modules/activations/activations-monitor.service.ts';
import { compatRoutes } from './modules/compat/compat.routes.ts';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.ts';
import { createWebhooksService } from './modules/webhooks/webhooks.service.ts';
import { rentalsRoutes } from './modules/rentals/rentals.routes.ts';
import { createRentalsService, type RentalsService } from './modules/rentals/rentals.service.ts';
import { createRentalStock } from './modules/supply/rental-stock.ts';
import { createAuditService } from './modules/audit/audit.service.ts';
import { type ConsoleRoute, consoleRoutes } from './modules/console/console.routes.ts';
import { createStaffService } from './modules/staff/staff.service.ts';
import { createFeedbackService } from './modules/support/feedback.service.ts';
import { createSupportInboxService } from './modules/support/support-inbox.service.ts';
import { createSecretBox } from './modules/web-sessions/secret-box.ts';
import { loadServerSecret } from './modules/web-sessions/web-sessions.service.ts';
import { webRoutes } from './modules/web/web.routes.ts';
import { createWebServices } from './modules/web/web.services.ts';

export type Services = ReturnType<typeof createServices>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Cross-instance messages (see src/events/pubsub.ts). */
    pubsub: PubSub;
    /** Every /api/console back-office route (the authorization test walks them). */
    consoleRouteIndex: ConsoleRoute[];
    /** The customer API's per-key limiter: how many requests it counted and how many Redis round trips that cost. */
    apiKeyRateLimit: { stats(): ApiKeyRateLimiterStats };
    /** Every route of the app as registered, full path (tests walk them: CSRF on every state-changing route). */
    routeIndex: { method: string; url: string }[];
  }
}

/**
 * The message bus between instances for `config`: Redis pub/sub when REDIS_URL is set (each test
 * run its own key prefix), in-process otherwise.
 */
export function createPubSub(config: Config, redisKeyPrefix = 'nova'): PubSub {
  return config.redisUrl ? createRedisPubSub(config.redisUrl, `${redisKeyPrefix}:events`) : createInProcessPubSub();
}

/**
 * Builds every domain service on one database; shared by the server and the operator CLI.
 * `pubsub` carries committed changes to every instance (caches and waiting clients listen to it);
 * without one, an in-process bus serves (one instance, or a tool that needs no live news).
 */
export function createServices(deps: { config: Config; database: Database; clock: Clock; pubsub?: PubSub }) {
  const { config, database, clock } = deps;
  const pubsub = deps.pubsub ?? createInProcessPubSub();
  const events = createDomainEvents();
  // First: staff and CLI changes in every module write their audit entry in the change's transaction.
  const audit = createAuditService({ database, clock });
  // One queue for every password hash of this process (customers and staff alike).
  const passwords = createPasswordHasher(config.passwordHashing);
  const accounts = createAccountsService({ database, clock, audit, passwords, pubsub });
  const billing = createBillingService({ database, clock, events, audit, pubsub });
  // Supply and activations need each other (buying reserves a number; an SMS finds its
  // activation), so supply gets its SMS sink as a late-bound call.
  let activations: ActivationsService | undefined;
  // Rentals too: an SMS no activation takes goes to the number's active rental.
  let rentals: RentalsService | undefined;
  const supply = createSupplyService({
    database,
    clock,
    operations: config.supply,
    deliverSms: (tx, sms) => {
      if (!activations) throw new Error('activations service not built yet');
      return activations.attachSms(tx, sms);
    },
    deliverRentalSms: (tx, sms) => {
      if (!rentals) throw new Error('rentals service not built yet');
      return rentals.attachSms(tx, sms);
    },
    cancelActivation: async (activationId) => {
      await activations?.cancelBySource(activationId);
    },
  });
  const catalog = createCatalogService({
    database,
    clock,
    audit,
    pubsub,
    countStock: (pairs) => supply.countStock(pairs),
    countStockHeld: (pairs) => supply.countStockHeld(pairs),
    supplyCosts: (pairs) => supply.supplyCosts(pairs),
  });
  // A sale or finish on this instance shows in its stock counts at once (other instances' within
  // stockCountMaxAgeMs, see src/modules/supply/stock-count-cache.ts).
  events.onCommitted((event) => {
    if (event.type === 'activation.created' || event.type === 'activation.completed' || event.type === 'activation.cancelled' || event.type === 'activation.expired') {
      supply.forgetStockCounts();
    }
  });
  // This instance's one subscription to activation changes: the read cache and long-polls hang on it.
  const activationChanges = createActivationChanges(pubsub);
  activations = createActivationsService({
    database,
    clock,
    billing,
    catalog,
    supply,
    events,
    changes: activationChanges,
    timing: { lifetimeSeconds: config.activationLifetimeSeconds, cancelAfterSeconds: config.cancelAfterSeconds },
    followUps: { reuseWindowSeconds: config.reuseWindowSeconds, reportRefundGuard: config.reportRefundGuard },
  });
  // Rented numbers rest after a rental as after a cancel, so the next buyer does not get the renter's late SMS.
  const rentalStock = createRentalStock({ database, clock, cooldownSeconds: config.supply.cancelCooldownSeconds, supply });
  rentals = createRentalsService({
    database,
    clock,
    billing,
    catalog,
    supply,
    stock: rentalStock,
    events,
    pubsub,
    audit,
    cancelWindowSeconds: config.rentalCancelWindowSeconds,
  });
  // The console's view of customers: search and read; changes stay with accounts and billing.
  const customers = createCustomersService({ accounts, activations, billing });
  // Writes its outbox rows from the domain events, inside each change's transaction.
  const webhooks = createWebhooksService({
    database,
    clock,
    events,
    activations,
    billing,
    rentals,
    settings: { allowHttpLoopback: config.webhooks.allowHttpLoopback, timeoutMs: 10_000 },
    pubsub,
  });
  const staff = createStaffService({ database, clock, audit, passwords, secretBox: createSecretBox(loadServerSecret(config.secret, config.dataDir)) });
  const web = createWebServices({ config, database, clock, accounts, billing, audit });
  return {
    pubsub,
    events,
    activationChanges,
    accounts,
    billing,
    supply,
    catalog,
    activations,
    rentals,
    rentalStock,
    webhooks,
    audit,
    staff,
    customers,
    ...web,
    supportInbox: createSupportInboxService({ database, support: web.support, accounts, activations }),
    feedback: createFeedbackService({ database, clock }),
    supplyConsole: createSupplyConsoleService({ database, clock, audit, supply, catalog, activations }),
    activationsMonitor: createActivationsMonitorService({ database, clock }),
  };
}

export interface AppDeps {
  config: Config;
  database: Database;
  clock: Clock;
  services: Services;
  /** Redis key prefix for shared state; tests give each run its own. */
  redisKeyPrefix?: string;
  /** Prometheus metrics (src/metrics.ts); absent when /metrics is off. */
  metrics?: AppMetrics;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, clock, services } = deps;
  // JSON lines with the request id on each, credentials left out (see http/request-logging.ts).
  const logging = createLogging(config);
  const app = Fastify({
    logger: logging.logger,
    bodyLimit: config.bodyLimitBytes,
    // Ids in logs let support find a request a customer quotes from an error message (or the
    // proxy's X-Request-Id, behind a trusted proxy).
    genReqId: requestIdGenerator(config.trustProxy),
    // Client IPs and https come from X-Forwarded-* only behind a proxy we trust; otherwise a
    // client could fake its IP to dodge the sign-in limit.
    trustProxy: config.trustProxy,
    // Per-request lines only when debugging; errors are logged either way.
    logController: new LogController({ disableRequestLogging: !['debug', 'trace'].includes(config.logLevel) }),
    childLoggerFactory: lazyRequestLogger,
    // What the router and Node's HTTP parser refuse goes through our error mapping too (the envelope).
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // First hook of all: every answer carries X-Request-Id, and app.log lines of a request its id.
  registerRequestIds(app);
  app.addHook('onClose', async () => logging.close());
  registerValidation(app);
  registerErrorHandling(app, { bodyLimitBytes: config.bodyLimitBytes });
  app.decorate('routeIndex', [] as { method: string; url: string }[]);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') app.routeIndex.push({ method, url: route.url });
  });
  // Before any route and any hook that may refuse a request: CSP, HSTS over HTTPS, nosniff,
  // frame and referrer policy on every answer, refusals included.
  await registerSecurityHeaders(app);
  // Before any route, so every route marked `carriesSecret` gets Cache-Control: no-store.
  registerNoStore(app);
  registerHttpsRequired(app, { trustProxy: config.trustProxy });
  if (deps.metrics) registerRequestMetrics(app, deps.metrics);
  // Before any route: the OpenAPI document is collected from the routes as they are added.
  await registerOpenApi(app);

  // A POST without a body (cancel, complete) is fine even when the client sends a JSON content type.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // The API takes JSON only: without this, Fastify's built-in text/plain parser would hand a
  // string to the schema and the client would get a confusing 400 instead of 415.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text === '') return done(null, undefined);
    parseJson(request, text, done);
  });

  const redis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : undefined;
  if (redis) reportRedisOutages(redis, app.log);
  // Shared through Redis in leases, not a round trip per request (README → Rate limits).
  const limiter = createApiKeyRateLimiter(config.rateLimit, { redis, keyPrefix: `${deps.redisKeyPrefix ?? 'nova'}:ratelimit` });
  app.decorate('apiKeyRateLimit', { stats: () => limiter.stats() });
  const pubsub = services.pubsub;
  // Committed activation changes go to every instance: long-poll and live pages wait on them.
  // `publishedAt` (wall-clock ms) lets each receiving instance measure the event-bus lag; `origin`
  // lets this instance's read cache tell its own changes (forgotten at commit already) come back.
  services.events.onCommitted((event) => {
    // Returned, not dropped: the request that made the change answers once other instances have it.
    if (event.type.startsWith('activation.')) {
      const message = { ...event, publishedAt: Date.now(), origin: services.activationChanges.origin };
      return pubsub.publish(activationChannel, JSON.stringify(message)).catch(() => {});
    }
  });
  services.supply.onProviderDisabled((event) => app.log.warn({ provider: event }, `provider ${event.providerId} disabled: ${event.reason}`));
  app.decorate('pubsub', pubsub);
  const stopWatchingEventBus = deps.metrics?.watchEventBus(pubsub);
  app.addHook('onClose', async () => stopWatchingEventBus?.());
  app.addHook('onClose', async () => {
    await limiter.close();
    await pubsub.close();
    // QUIT lets pending commands finish; without a connection (Redis down) there is nothing to wait for.
    await redis?.quit().catch(() => redis.disconnect());
  });

  await app.register(
    async (api) => {
      await api.register(supplyRoutes, { supply: services.supply, clock });
      await api.register(androidGatewayRoutes, { supply: services.supply, clock, maxSkewSeconds: config.supply.gatewayMaxSkewSeconds });
      await api.register(smshubRoutes, { supply: services.supply });
      await api.register(async (customerApi) => {
        customerApi.addHook('onRequest', apiKeyAuthentication(services.accounts, limiter));
        await customerApi.register(billingRoutes, { billing: services.billing });
        await customerApi.register(catalogRoutes, { catalog: services.catalog });
        await customerApi.register(activationsRoutes, { activations: services.activations, changes: services.activationChanges });
        await customerApi.register(webhooksRoutes, { webhooks: services.webhooks });
        await customerApi.register(rentalsRoutes, { rentals: services.rentals });
      });
    },
    { prefix: '/api/v1' },
  );

  await app.register(webRoutes, { prefix: '/api/web', config, services, redisKeyPrefix: deps.redisKeyPrefix ?? 'nova' });
  app.decorate('consoleRouteIndex', [] as ConsoleRoute[]);
  await app.register(consoleRoutes, { prefix: '/api/console', config, services, redisKeyPrefix: deps.redisKeyPrefix ?? 'nova', routeIndex: app.consoleRouteIndex });

  // The sms-activate protocol, for tools written against it (same services, same per-key limit).
  await app.register(compatRoutes, {
    accounts: services.accounts,
    billing: services.billing,
    catalog: services.catalog,
    activations: services.activations,
    rentals: services.rentals,
    rentalStock: services.rentalStock,
    limiter,
  });

  await app.register(healthRoutes, { database: deps.database, redis });
  // Without a token /metrics is not on this port (NOVA_METRICS_PORT serves it on its own).
  if (deps.metrics && config.metrics.token) await app.register(metricsRoutes, { metrics: deps.metrics, token: config.metrics.token });
  await app.register(websiteRoutes);
  return app;
}
